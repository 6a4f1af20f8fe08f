package engine

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/probes"
)

// kubeconfigRead is a hypothetical rule, written the way a new rule is
// written in a rules_*.go file: one definition, nothing else.
var kubeconfigRead = definition{
	Rule: catalog.Rule{
		ID:          "kubeconfig-read-by-drift",
		Name:        "Program not from the image runs or reads a kubeconfig",
		Description: "A program that is not part of the container's image ran, or opened a kubeconfig (~/.kube/config, /etc/kubernetes/*.conf): a tool brought in to reach the cluster.",
		Tactic:      "TA0006", TacticName: "Credential Access",
		Technique:  "T1552.001",
		Events:     []string{"exec", "open"},
		Mitigation: catalog.Isolate,
	},
	cond: func(c *Ctx) (Details, bool) {
		if c.Proc.FromImage() || c.Proc.Entrypoint {
			return nil, false
		}
		if c.Ev.Kind == probes.KindExec {
			return Details{"path": c.Proc.Exe}, true
		}
		p, _, ok := c.opened()
		if ok && (strings.HasSuffix(p, "/.kube/config") || strings.HasPrefix(p, "/etc/kubernetes/") && strings.HasSuffix(p, ".conf")) {
			return Details{"path": p}, true
		}
		return nil, false
	},
	kill: probes.KillDrift, // its exec half, decided by the kernel under terminate
	open: &OpenInterest{BasePrefixes: []string{"config"}, PathPrefixes: []string{"/etc/kubernetes/"}},
}

// TestAddingARule adds kubeconfigRead to the product's definitions and
// finds it in every table derived from them: the catalog, the dispatch,
// the kill map and the kernel's open prefilter.
func TestAddingARule(t *testing.T) {
	tab, err := newTable(append(rules(), kubeconfigRead))
	if err != nil {
		t.Fatal(err)
	}
	id := kubeconfigRead.ID

	// the catalog: listed, with its metadata, in the generated file's format
	cat := tab.catalog()
	if !slices.ContainsFunc(cat, func(r catalog.Rule) bool { return r.ID == id && r.Technique == "T1552.001" }) {
		t.Errorf("catalog: %s missing", id)
	}
	if !bytes.Contains(renderCatalog(t, cat), []byte(`"id": "`+id+`"`)) {
		t.Errorf("rules.json: %s missing", id)
	}

	// the dispatch: an engine built on the table runs its condition on
	// exec and open, for a pod whose ruleset enables it
	w := newWorld(t)
	w.e.tab = tab
	snap := &rulesets.Snapshot{Generation: 2, Rulesets: []*rulesets.Ruleset{{Name: "k", Rules: map[string]catalog.Mitigation{id: catalog.Terminate}}}}
	w.e.SetRules(snap)
	if got := w.handle(withOrigin(exec(300, 100, "/app/kubectl", "kubectl"), probes.OriginUpper)); !slices.Equal(got, []string{id}) {
		t.Errorf("exec of a dropped binary: %v", got)
	}
	if got := w.handle(open(300, "/root/.kube/config", 0, 0)); !slices.Equal(got, []string{id}) {
		t.Errorf("kubeconfig read: %v", got) // world.handle also checks the prefilter passes it
	}
	if got := w.handle(open(100, "/root/.kube/config", 0, 0)); len(got) != 0 {
		t.Errorf("kubeconfig read by the image's entrypoint: %v", got)
	}

	// the kill map and the kinds the kernel reports for the pod
	kinds, kill := tab.watch(snap, nil, false)
	if kill != probes.KillDrift || !kinds.Has(probes.KindOpen) || !kinds.Has(probes.KindExec) {
		t.Errorf("watch: kinds %v kill %v", kinds, kill)
	}

	// the kernel's open prefilter
	f := tab.openFilter(snap)
	if f == nil || !f.Passes("/root/.kube/config", 0) || !f.Passes("/etc/kubernetes/admin.conf", 0) || f.Passes("/etc/passwd", 0) {
		t.Errorf("open prefilter %+v", f)
	}

	// and every derived table agrees with the definitions
	for _, p := range checkDerived(append(rules(), kubeconfigRead), derive(tab, cat)) {
		t.Error(p)
	}
	// the product's own tables do not know it
	if _, ok := catalog.Lookup(id); ok || managed.defs[id] != nil {
		t.Errorf("%s leaked into the product's tables", id)
	}
}
