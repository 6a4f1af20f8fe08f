package rulesets

import (
	"strings"
	"testing"
)

// FuzzParse: any bytes give a ruleset or problems that name the file and
// a line inside it, never a panic.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"name = \"x\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
		"name = \"php\"\n[labels]\napp = \"php\"\n\"a.b/c\" = \"d\"\n[[rule]]\nid = \"container-drift\"\nmitigation = \"isolate\"\n",
		"name = 3\n", "[[rule]\n", "\xff\xfe", "name = \"\"\"\nmulti\n\"\"\"\n", "[labels]\n'\"q\".x' = 'y'\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, probs := Parse("f.toml", data)
		if (rs == nil) == (len(probs) == 0) {
			t.Fatalf("Parse returned ruleset %v and %d problems", rs != nil, len(probs))
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, p := range probs {
			if p.File != "f.toml" || p.Line < 0 || p.Line > lines || p.Msg == "" {
				t.Fatalf("problem %+v out of the file's %d lines", p, lines)
			}
		}
	})
}
