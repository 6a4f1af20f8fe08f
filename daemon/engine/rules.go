package engine

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

// definition is one managed rule, written once, in a rules_*.go file.
// Everything else about the rule is derived from the list of definitions
// (rules), never written a second time:
//   - the catalog: Rule is what `podguard rules` lists and what ruleset
//     validation knows, published as daemon/catalog/rules.json (generated:
//     go generate ./daemon/engine);
//   - the dispatch: cond runs on the event kinds Rule.Events names, and on
//     no other;
//   - the in-kernel kill armed for a pod whose rulesets terminate on the
//     rule: kill;
//   - the kernel's open prefilter: open, for a rule whose Events name open.
//
// Adding a rule is adding a definition to one of these lists, its cases in
// TestRules, and running go generate ./daemon/engine for rules.json.
type definition struct {
	catalog.Rule
	// cond decides the rule for one event of one of Rule.Events' kinds.
	cond condition
	// kill is the kernel's own decision of the rule (SIGKILL at the
	// syscall or exec, before userspace sees the event); 0 for a rule
	// decided in userspace only.
	kill probes.KillSet
	// open declares which opens cond can match, so that the kernel emits
	// only those (see OpenInterest). A rule that reads opens and declares
	// nothing turns the prefilter off (every open passes): the fail-safe.
	open *OpenInterest
}

//go:generate go test -run TestCatalogFile -update .

// rules returns every managed rule's definition.
func rules() []definition {
	return slices.Concat(execRules, toolRules, readRules, linkRules, persistRules, fileRules, netRules, privRules, tamperRules, routeRules, lossRules)
}

// managed is the table of the product's rules.
var managed = func() *table {
	t, err := newTable(rules())
	if err != nil {
		panic("engine: " + err.Error())
	}
	return t
}()

// table indexes definitions by id, with their event kinds parsed. The
// catalog, the dispatch, the kill map and the open prefilter are all
// read from it.
type table struct {
	defs  map[string]*definition
	kinds map[string][]probes.Kind
}

// newTable checks defs and indexes them.
func newTable(defs []definition) (*table, error) {
	t := &table{defs: make(map[string]*definition, len(defs)), kinds: make(map[string][]probes.Kind, len(defs))}
	var errs []error
	for i := range defs {
		d := &defs[i]
		if err := t.add(d); err != nil {
			errs = append(errs, fmt.Errorf("rule %q: %w", d.ID, err))
		}
	}
	return t, errors.Join(errs...)
}

func (t *table) add(d *definition) error {
	switch {
	case d.ID == "":
		return errors.New("no id")
	case t.defs[d.ID] != nil:
		return errors.New("defined twice")
	case d.cond == nil:
		return errors.New("no condition")
	case len(d.Events) == 0:
		return errors.New("no event kinds")
	}
	var kinds []probes.Kind
	for _, name := range d.Events {
		k, ok := probes.ParseKind(name)
		switch {
		case !ok:
			return fmt.Errorf("unknown event kind %q", name)
		case k == probes.KindFork || k == probes.KindExit:
			return fmt.Errorf("event kind %s only keeps the process table: no condition sees it", k)
		case slices.Contains(kinds, k):
			return fmt.Errorf("event kind %s named twice", k)
		}
		kinds = append(kinds, k)
	}
	if d.open != nil && !slices.Contains(kinds, probes.KindOpen) {
		return errors.New("declares an open interest but does not read opens")
	}
	t.defs[d.ID] = d
	t.kinds[d.ID] = kinds
	return nil
}

// catalog returns the rules' metadata, sorted by id: the content of
// daemon/catalog/rules.json.
func (t *table) catalog() []catalog.Rule {
	out := make([]catalog.Rule, 0, len(t.defs))
	for _, d := range t.defs {
		r := d.Rule
		r.Events = slices.Clone(r.Events)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b catalog.Rule) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
