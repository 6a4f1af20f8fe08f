package catalog

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

type attackEntry struct {
	name    string
	tactics []string
}

func loadAttack(tb testing.TB) map[string]attackEntry {
	tb.Helper()
	f, err := os.Open("testdata/attack-enterprise.tsv")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string]attackEntry{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			tb.Fatalf("bad line %q", line)
		}
		e := attackEntry{name: cols[1]}
		if cols[2] != "" {
			e.tactics = strings.Split(cols[2], ",")
		}
		out[cols[0]] = e
	}
	return out
}

// TestAttackIDs checks every rule's tactic and technique against the ATT&CK
// Enterprise list kept in testdata, including that the technique belongs
// to the tactic the rule names.
func TestAttackIDs(t *testing.T) {
	attack := loadAttack(t)
	tactics := map[string]bool{}
	for _, r := range All() {
		ta, ok := attack[r.Tactic]
		if !ok || !strings.HasPrefix(r.Tactic, "TA") {
			t.Errorf("%s: tactic %q is not an ATT&CK Enterprise tactic", r.ID, r.Tactic)
			continue
		}
		if ta.name != r.TacticName {
			t.Errorf("%s: tactic %s is %q, not %q", r.ID, r.Tactic, ta.name, r.TacticName)
		}
		te, ok := attack[r.Technique]
		if !ok || !strings.HasPrefix(r.Technique, "T1") {
			t.Errorf("%s: technique %q is not an ATT&CK Enterprise technique", r.ID, r.Technique)
			continue
		}
		found := false
		for _, x := range te.tactics {
			found = found || x == r.Tactic
		}
		if !found {
			t.Errorf("%s: technique %s (%s) does not belong to tactic %s (it is under %v)", r.ID, r.Technique, te.name, r.Tactic, te.tactics)
		}
		tactics[r.Tactic] = true
	}
	if n := len(All()); n < 40 {
		t.Errorf("catalog has %d rules, want at least 40", n)
	}
	if len(tactics) < 10 {
		t.Errorf("catalog covers %d tactics, want at least 10", len(tactics))
	}
}

func TestRuleMetadata(t *testing.T) {
	id := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	for _, r := range All() {
		if !id.MatchString(r.ID) {
			t.Errorf("rule id %q is not kebab-case", r.ID)
		}
		if r.Name == "" || len(r.Description) < 40 || len(r.Events) == 0 || r.Mitigation == 0 {
			t.Errorf("%s: incomplete metadata %+v", r.ID, r)
		}
	}
}

func TestClosest(t *testing.T) {
	for in, want := range map[string]string{
		"container-drfit": "container-drift",
		"reverse-shel":    "reverse-shell",
		"drift":           "container-drift",
		"zzzzzzzzzzzzzz":  "",
	} {
		if got := Closest(in); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}
