package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/podguard/podguard/daemon/catalog"
)

// columns splits a table line on the padding between columns (two spaces
// or more) and returns the columns and the offset where each starts.
func columns(line string) ([]string, []int) {
	var cols []string
	var starts []int
	for _, loc := range regexp.MustCompile(`\S+( \S+)*`).FindAllStringIndex(line, -1) {
		cols = append(cols, line[loc[0]:loc[1]])
		starts = append(starts, loc[0])
	}
	return cols, starts
}

func TestRulesTable(t *testing.T) {
	stdout, stderr, code := runCLI(t, "rules")
	if code != 0 || stderr != "" {
		t.Fatalf("rules: exit %d, stderr %q", code, stderr)
	}
	all := catalog.All()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 1+len(all) {
		t.Fatalf("%d lines for %d rules:\n%s", len(lines), len(all), stdout)
	}
	head, headStarts := columns(lines[0])
	if strings.Join(head, "|") != "ID|TACTIC|TECHNIQUE|EVENTS|SUGGESTED|NAME" {
		t.Fatalf("header %q", lines[0])
	}
	for i, r := range all {
		cols, starts := columns(lines[i+1])
		want := []string{r.ID, r.Tactic + " " + r.TacticName, r.Technique, strings.Join(r.Events, ","), fmt.Sprint(r.Mitigation), r.Name}
		if strings.Join(cols, "|") != strings.Join(want, "|") {
			t.Errorf("row %d = %q, want columns %q", i, lines[i+1], want)
			continue
		}
		for j := range starts {
			if starts[j] != headStarts[j] {
				t.Errorf("row %d: column %s starts at %d, its header at %d", i, head[j], starts[j], headStarts[j])
			}
		}
	}
}

func TestRulesJSON(t *testing.T) {
	stdout, _, code := runCLI(t, "rules", "--json")
	var got []struct {
		ID, Name, Technique, Mitigation string
		Events                          []string
	}
	if err := json.Unmarshal([]byte(stdout), &got); code != 0 || err != nil {
		t.Fatalf("rules --json: exit %d, %v:\n%s", code, err, stdout)
	}
	all := catalog.All()
	if len(got) != len(all) {
		t.Fatalf("%d rules in JSON, catalog has %d", len(got), len(all))
	}
	for i := range all {
		r := all[i]
		if got[i].ID != r.ID || got[i].Name != r.Name || got[i].Technique != r.Technique || got[i].Mitigation != fmt.Sprint(r.Mitigation) || strings.Join(got[i].Events, ",") != strings.Join(r.Events, ",") {
			t.Errorf("rule %d = %+v, want %+v", i, got[i], all[i])
		}
	}
	if !strings.HasPrefix(stdout, "[\n  {\n    \"id\": ") {
		t.Errorf("JSON not indented:\n%.80s", stdout)
	}
}
