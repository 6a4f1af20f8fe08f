package engine

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/probes"
)

// derived is what the product makes of a table of definitions, seen as
// the rest of podguard sees it, rule by rule.
type derived struct {
	// catalog is what `podguard rules` lists and ruleset validation knows.
	catalog []catalog.Rule
	// dispatch is the event kinds on which the engine runs the rule's
	// condition, for a pod whose rulesets enable only that rule.
	dispatch func(id string) probes.KindSet
	// watch is what the kernel reports and kills for a pod whose
	// rulesets terminate on only that rule.
	watch func(id string) (probes.KindSet, probes.KillSet)
	// filter is the kernel's open prefilter with only that rule enabled.
	filter func(id string) *probes.OpenFilter
}

// derive builds the views through the functions the product uses: an
// Engine's per-pod dispatch, KernelNeeds and OpenFilter (their bodies, on tab).
func derive(tab *table, cat []catalog.Rule) derived {
	only := func(id string, m catalog.Mitigation) *rulesets.Snapshot {
		return &rulesets.Snapshot{Generation: 1, Rulesets: []*rulesets.Ruleset{{Name: "t", Rules: map[string]catalog.Mitigation{id: m}}}}
	}
	return derived{
		catalog: cat,
		dispatch: func(id string) probes.KindSet {
			e := New(fakeResolver{}, Self{})
			e.tab = tab
			e.SetRules(only(id, catalog.Log))
			var ks probes.KindSet
			for k, refs := range e.podRules(workload.Pod{UID: "u"}).byKind {
				for _, r := range refs {
					if r.rule.ID == id {
						ks |= probes.KindsOf(probes.Kind(k))
					}
				}
			}
			return ks
		},
		watch: func(id string) (probes.KindSet, probes.KillSet) {
			return tab.watch(only(id, catalog.Terminate), nil, false)
		},
		filter: func(id string) *probes.OpenFilter { return tab.openFilter(only(id, catalog.Log)) },
	}
}

// killHooks are the event kinds on whose hooks the kernel applies each
// kill (probes/bpf): a rule armed with a kill must read those kinds, or
// what the kernel kills is never reported.
var killHooks = map[probes.KillSet]probes.KindSet{
	probes.KillDrift:        probes.KindsOf(probes.KindExec),
	probes.KillMemfdExec:    probes.KindsOf(probes.KindExec),
	probes.KillModuleLoad:   probes.KindsOf(probes.KindModule),
	probes.KillPtrace:       probes.KindsOf(probes.KindPtrace),
	probes.KillNamespace:    probes.KindsOf(probes.KindUnshare, probes.KindSetns),
	probes.KillReverseShell: probes.KindsOf(probes.KindExec),
	probes.KillEventsLost:   probes.KindsOf(probes.KindEventsLost),
}

// checkDerived lists where d disagrees with defs.
func checkDerived(defs []definition, d derived) []string {
	var probs []string
	bad := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }
	listed := map[string]catalog.Rule{}
	for _, r := range d.catalog {
		listed[r.ID] = r
	}
	defined := map[string]bool{}
	for _, def := range defs {
		id := def.ID
		defined[id] = true
		if r, ok := listed[id]; !ok {
			bad("%s: defined, but not in the catalog", id)
		} else if diff := fieldDiff(r, def.Rule); diff != "" {
			bad("%s: the catalog differs from the definition: %s", id, diff)
		}
		var kinds probes.KindSet
		for _, name := range def.Events {
			k, _ := probes.ParseKind(name)
			kinds |= probes.KindsOf(k)
		}
		if got := d.dispatch(id); got != kinds {
			bad("%s: its condition runs on %v, the definition names %v", id, got, kinds)
		}
		watched, kill := d.watch(id)
		if want := kinds | probes.KindsOf(probes.KindExec, probes.KindFork, probes.KindExit); watched != want {
			bad("%s: the kernel reports %v, the definition needs %v", id, watched, want)
		}
		if kill != def.kill {
			bad("%s: the kernel kills on %q, the definition on %q", id, kill, def.kill)
		}
		for bit := probes.KillSet(1); bit != 0 && bit <= def.kill; bit <<= 1 {
			if hooks, ok := killHooks[bit]; def.kill&bit != 0 && (!ok || kinds&hooks != hooks) {
				bad("%s: kill %q acts on %v, which the rule does not read (%v)", id, bit, hooks, kinds)
			}
		}
		checkFilter(id, kinds, def.open, d.filter(id), bad)
	}
	for _, r := range d.catalog {
		if !defined[r.ID] {
			bad("%s: in the catalog, but has no definition (no condition)", r.ID)
		}
	}
	return probs
}

// fieldDiff names the fields in which a catalog entry differs from a
// definition's metadata.
func fieldDiff(cat, def catalog.Rule) string {
	var out []string
	a, b := reflect.ValueOf(cat), reflect.ValueOf(def)
	for i := range a.NumField() {
		if x, y := a.Field(i).Interface(), b.Field(i).Interface(); !reflect.DeepEqual(x, y) {
			out = append(out, fmt.Sprintf("%s %v, not %v", a.Type().Field(i).Name, x, y))
		}
	}
	return strings.Join(out, "; ")
}

// checkFilter compares the open prefilter of one rule with its declaration.
func checkFilter(id string, kinds probes.KindSet, in *OpenInterest, f *probes.OpenFilter, bad func(string, ...any)) {
	switch {
	case !kinds.Has(probes.KindOpen):
		if f == nil || f.Prefixes() != 0 {
			bad("%s: reads no opens, but sets the open prefilter to %+v", id, f)
		}
	case in == nil || in.All:
		if f != nil {
			bad("%s: needs every open, but the prefilter is %+v", id, f)
		}
	default:
		uniq := func(s []string) []string { return slices.Compact(slices.Sorted(slices.Values(s))) }
		if f == nil || !slices.Equal(f.PathPrefixes, uniq(in.PathPrefixes)) || !slices.Equal(f.BasePrefixes, uniq(in.BasePrefixes)) {
			bad("%s: the open prefilter is %+v, the definition declares %+v", id, f, *in)
		}
	}
}

// TestDerivedTablesAgree: the catalog (daemon/catalog/rules.json, as the
// catalog package serves it), the dispatch, the kill map and the open
// prefilter, each built by the product's own code, agree with the
// definitions rule by rule.
func TestDerivedTablesAgree(t *testing.T) {
	defs := rules()
	if len(defs) < 40 {
		t.Fatalf("%d definitions", len(defs))
	}
	for _, p := range checkDerived(defs, derive(managed, catalog.All())) {
		t.Error(p)
	}
}

// TestDerivedTablesCheckFails edits each derived table by hand, the way
// the four tables of old drifted apart, and requires checkDerived to
// notice: the check above cannot pass by accident.
func TestDerivedTablesCheckFails(t *testing.T) {
	defs := rules()
	for _, c := range []struct {
		name, id string
		edit     func(d *derived)
	}{
		{"catalog lists a rule with no condition", "kubectl-exec-ghost", func(d *derived) {
			d.catalog = append(slices.Clone(d.catalog), catalog.Rule{ID: "kubectl-exec-ghost", Events: []string{"exec"}})
		}},
		{"catalog misses a rule", "reverse-shell", func(d *derived) {
			d.catalog = slices.DeleteFunc(slices.Clone(d.catalog), func(r catalog.Rule) bool { return r.ID == "reverse-shell" })
		}},
		{"catalog entry edited", "shadow-file-read", func(d *derived) {
			d.catalog = slices.Clone(d.catalog)
			for i := range d.catalog {
				if d.catalog[i].ID == "shadow-file-read" {
					d.catalog[i].Mitigation = catalog.Terminate
				}
			}
		}},
		{"dispatch drops a kind", "clear-logs", func(d *derived) { d.dispatch = without(d.dispatch, "clear-logs", probes.KindUnlink) }},
		{"kill entry for a rule without one", "exec-from-tmp", func(d *derived) {
			d.watch = withKill(d.watch, "exec-from-tmp", probes.KillDrift)
		}},
		{"kill entry lost", "kernel-module-load", func(d *derived) { d.watch = withKill(d.watch, "kernel-module-load", 0) }},
		{"open interest lost", "private-key-read", func(d *derived) {
			filter := d.filter
			d.filter = func(id string) *probes.OpenFilter {
				f := filter(id)
				if id == "private-key-read" {
					f.BasePrefixes = nil
				}
				return f
			}
		}},
	} {
		d := derive(managed, catalog.All())
		c.edit(&d)
		probs := checkDerived(defs, d)
		if !slices.ContainsFunc(probs, func(p string) bool { return strings.HasPrefix(p, c.id+": ") }) {
			t.Errorf("%s: not noticed (problems: %q)", c.name, probs)
		}
	}
	// and a definition edited without the tables following it
	edited := slices.Clone(defs)
	for i := range edited {
		if edited[i].ID == "namespace-escape" {
			edited[i].Events = []string{"exec"} // its kill acts on unshare and setns
		}
	}
	if probs := checkDerived(edited, derive(managed, catalog.All())); len(probs) < 3 {
		t.Errorf("namespace-escape reading only exec: %q, want the dispatch, the watch and the kill flagged", probs)
	}
}

func without(dispatch func(string) probes.KindSet, id string, k probes.Kind) func(string) probes.KindSet {
	return func(x string) probes.KindSet {
		if x == id {
			return dispatch(x) &^ probes.KindsOf(k)
		}
		return dispatch(x)
	}
}

func withKill(watch func(string) (probes.KindSet, probes.KillSet), id string, kill probes.KillSet) func(string) (probes.KindSet, probes.KillSet) {
	return func(x string) (probes.KindSet, probes.KillSet) {
		ks, k := watch(x)
		if x == id {
			k = kill
		}
		return ks, k
	}
}

// TestNewTableRejects: the definitions the engine refuses to build a
// table from.
func TestNewTableRejects(t *testing.T) {
	cond := func(*Ctx) (Details, bool) { return nil, false }
	ok := definition{Rule: catalog.Rule{ID: "a", Events: []string{"open"}}, cond: cond}
	for name, d := range map[string]definition{
		"defined twice":  ok,
		"no condition":   {Rule: catalog.Rule{ID: "b", Events: []string{"exec"}}},
		"no event kinds": {Rule: catalog.Rule{ID: "b"}, cond: cond},
		"unknown kind":   {Rule: catalog.Rule{ID: "b", Events: []string{"opne"}}, cond: cond},
		"fork":           {Rule: catalog.Rule{ID: "b", Events: []string{"fork"}}, cond: cond},
		"kind twice":     {Rule: catalog.Rule{ID: "b", Events: []string{"exec", "exec"}}, cond: cond},
		"open interest":  {Rule: catalog.Rule{ID: "b", Events: []string{"exec"}}, cond: cond, open: &OpenInterest{Writes: true}},
		"no id":          {Rule: catalog.Rule{Events: []string{"exec"}}, cond: cond},
	} {
		if _, err := newTable([]definition{ok, d}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := newTable([]definition{ok}); err != nil {
		t.Error(err)
	}
}
