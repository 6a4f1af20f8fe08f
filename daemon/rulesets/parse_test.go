package rulesets

import (
	"strings"
	"testing"

	"github.com/podguard/podguard/daemon/catalog"
)

// TestParseProblems pins the exact message an operator sees for each kind
// of bad ruleset file.
func TestParseProblems(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"syntax error", "name = \"x\"\n[[rule]\nid = \"*\"\n",
			[]string{`f.toml:2: TOML syntax error: expected end of table array name delimiter ']', but got '\n' instead; fix the syntax on this line`}},
		{"unknown top-level key", "name = \"x\"\nnmae = \"y\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
			[]string{`f.toml:2: unknown key "nmae"; valid keys there are: description, labels, name, on_loss, rule`}},
		{"unknown rule key", "name = \"x\"\n[[rule]]\nid = \"*\"\nmitigaton = \"log\"\n",
			[]string{`f.toml:4: unknown key "mitigaton" in [rule]; valid keys there are: id, mitigation`}},
		{"wrong type", "name = 3\n",
			[]string{`f.toml:1: wrong type for "name": TOML value has type int64; destination has type string`}},
		{"labels not a table", "name = \"x\"\nlabels = \"app=php\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
			[]string{`f.toml:2: wrong type for "labels": it must be a table ([labels]), not a string`}},
		{"rule not a list of tables", "name = \"x\"\nrule = \"*\"\n",
			[]string{`f.toml:2: wrong type for "rule": TOML value has type string; destination has type slice`}},
		{"empty file", "\n  \n",
			[]string{"f.toml:1: file is empty; a ruleset needs at least `name = \"...\"` and one [[rule]]"}},
		{"missing name", "[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
			[]string{"f.toml:1: ruleset has no name; add `name = \"my-ruleset\"` at the top (unique in the rules directory)"}},
		{"bad name", "name = \"PHP Tier\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
			[]string{`f.toml:1: ruleset name "PHP Tier" is not valid; use 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit`}},
		{"unknown rule id", "name = \"x\"\n[[rule]]\nid = \"container-drfit\"\nmitigation = \"log\"\n",
			[]string{"f.toml:3: unknown rule id \"container-drfit\"; did you mean \"container-drift\"? (`podguard rules` lists the managed rules)"}},
		{"bad mitigation", "name = \"x\"\n[[rule]]\nid = \"container-drift\"\nmitigation = \"block\"\n",
			[]string{`f.toml:4: mitigation "block" is not valid; use "log", "isolate" or "terminate"`}},
		{"missing mitigation", "name = \"x\"\n[[rule]]\nid = \"container-drift\"\n",
			[]string{"f.toml:2: rule \"container-drift\" has no mitigation; add `mitigation = \"log\"` (or \"isolate\", \"terminate\")"}},
		{"rule twice", "name = \"x\"\n[[rule]]\nid = \"container-drift\"\nmitigation = \"log\"\n[[rule]]\nid = \"container-drift\"\nmitigation = \"isolate\"\n",
			[]string{`f.toml:6: rule "container-drift" is listed twice in this ruleset (first on line 3); keep one entry`}},
		{"no rules", "name = \"x\"\n",
			[]string{"f.toml:1: ruleset enables no rules; add a [[rule]] table with `id` (see `podguard rules`) and `mitigation`"}},
		{"bad label key", "name = \"x\"\n[labels]\n\"-app\" = \"php\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
			[]string{`f.toml:3: label key "-app": use letters, digits, '-', '_' and '.', starting and ending with a letter or digit`}},
		{"bad label prefix", "name = \"x\"\n[labels]\n\"Example.com/app\" = \"php\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
			[]string{`f.toml:3: label key "Example.com/app": the prefix before '/' must be a DNS subdomain like example.com (lowercase, at most 253 characters)`}},
		{"bad label value", "name = \"x\"\n[labels]\napp = \"php fpm\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
			[]string{`f.toml:3: label value "php fpm" for "app": use letters, digits, '-', '_' and '.', starting and ending with a letter or digit`}},
		{"long label value", "name = \"x\"\n[labels]\napp = \"" + strings.Repeat("a", 64) + "\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
			[]string{`f.toml:3: label value "` + strings.Repeat("a", 64) + `" for "app": label values must be at most 63 characters`}},
		{"bad on_loss", "name = \"x\"\non_loss = \"kill\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
			[]string{`f.toml:2: on_loss "kill" is not valid; use "log", "isolate" or "terminate" (what losing a pod's kernel events means for it)`}},
		{"on_loss as a type error", "name = \"x\"\non_loss = 1\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
			[]string{`f.toml:2: wrong type for "on_loss": TOML value has type int64; destination has type string`}},
		{"events-lost as a rule", "name = \"x\"\n[[rule]]\nid = \"events-lost\"\nmitigation = \"terminate\"\n",
			[]string{"f.toml:3: rule \"events-lost\" takes its mitigation from the ruleset's on_loss; remove this [[rule]] and set `on_loss = \"terminate\"` at the top"}},
		{"invalid utf-8", "name = \"x\"\ndescription = \"\xff\xfe\"\n",
			[]string{"f.toml:2: file is not valid UTF-8 text; save it as UTF-8 (is it a binary file?)"}},
		{"binary garbage", "\x00\x01\x02ELF",
			[]string{"f.toml:1: TOML syntax error: files cannot contain NULL bytes; probably using UTF-16; TOML files must be UTF-8; fix the syntax on this line"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, probs := Parse("f.toml", []byte(c.src))
			if rs != nil {
				t.Fatalf("Parse accepted a bad file: %+v", rs)
			}
			var got []string
			for _, p := range probs {
				got = append(got, p.Error())
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("problems:\n got: %q\nwant: %q", got, c.want)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	src := `name = "php-frontends"
description = "Lock down the PHP tier"
[labels]
app = "php"
"app.kubernetes.io/tier" = "web"
[[rule]]
id = "*"
mitigation = "log"
[[rule]]
id = "container-drift"
mitigation = "isolate"
`
	rs, probs := Parse("php.toml", []byte(src))
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	if rs.Name != "php-frontends" || rs.Labels["app"] != "php" || rs.Labels["app.kubernetes.io/tier"] != "web" {
		t.Fatalf("ruleset = %+v", rs)
	}
	if len(rs.Rules) != len(catalog.IDs()) {
		t.Fatalf("\"*\" enabled %d rules, catalog has %d", len(rs.Rules), len(catalog.IDs()))
	}
	if rs.Rules["container-drift"] != catalog.Isolate || rs.Rules["terminal-shell-in-container"] != catalog.Log {
		t.Fatalf("explicit entry must override \"*\": %v", rs.Rules)
	}
}

// TestOnLoss: every ruleset reports loss (log by default), on_loss sets
// its mitigation, "*" does not, and the strongest wins across rulesets.
func TestOnLoss(t *testing.T) {
	parse := func(src string) *Ruleset {
		t.Helper()
		rs, probs := Parse("f.toml", []byte(src))
		if len(probs) > 0 {
			t.Fatalf("problems: %v", probs)
		}
		return rs
	}
	plain := parse("name = \"plain\"\n[[rule]]\nid = \"*\"\nmitigation = \"terminate\"\n")
	if plain.OnLoss != catalog.Log || plain.Rules[catalog.EventsLost] != catalog.Log {
		t.Errorf("default: on_loss %v, events-lost %v; want log for both (\"*\" does not set it)", plain.OnLoss, plain.Rules[catalog.EventsLost])
	}
	strict := parse("name = \"strict\"\non_loss = \"terminate\"\n[labels]\napp = \"php\"\n[[rule]]\nid = \"container-drift\"\nmitigation = \"log\"\n")
	if strict.Rules[catalog.EventsLost] != catalog.Terminate {
		t.Errorf("on_loss = terminate: events-lost %v", strict.Rules[catalog.EventsLost])
	}
	snap := &Snapshot{Rulesets: []*Ruleset{plain, strict}}
	if v := snap.Select(map[string]string{"app": "php"})[catalog.EventsLost]; v.Mitigation != catalog.Terminate || v.Ruleset != "strict" {
		t.Errorf("php pod: events-lost %+v, want terminate from strict", v)
	}
	if v := snap.Select(nil)[catalog.EventsLost]; v.Mitigation != catalog.Log || v.Ruleset != "plain" {
		t.Errorf("other pod: events-lost %+v, want log from plain", v)
	}
}

func TestShippedRulesetsValid(t *testing.T) {
	n, probs := Validate([]string{"../../rules.d"})
	if n == 0 || len(probs) > 0 {
		t.Fatalf("shipped rules.d: %d files, problems: %v", n, probs)
	}
}

func TestSelectStrongestMitigation(t *testing.T) {
	snap := &Snapshot{Rulesets: []*Ruleset{
		{Name: "all-log", Rules: map[string]catalog.Mitigation{"container-drift": catalog.Log, "reverse-shell": catalog.Log}},
		{Name: "php", Labels: map[string]string{"app": "php"}, Rules: map[string]catalog.Mitigation{"container-drift": catalog.Terminate}},
		{Name: "php-prod", Labels: map[string]string{"app": "php", "env": "prod"}, Rules: map[string]catalog.Mitigation{"container-drift": catalog.Isolate, "reverse-shell": catalog.Isolate}},
	}}
	sel := snap.Select(map[string]string{"app": "php", "env": "prod"})
	if v := sel["container-drift"]; v.Mitigation != catalog.Terminate || v.Ruleset != "php" {
		t.Errorf("container-drift = %+v, want terminate from php", v)
	}
	if v := sel["reverse-shell"]; v.Mitigation != catalog.Isolate || v.Ruleset != "php-prod" {
		t.Errorf("reverse-shell = %+v, want isolate from php-prod", v)
	}
	other := snap.Select(map[string]string{"app": "nginx"})
	if v := other["container-drift"]; v.Mitigation != catalog.Log || v.Ruleset != "all-log" {
		t.Errorf("unlabelled pod: container-drift = %+v, want log from all-log", v)
	}
	if got := snap.Select(map[string]string{"app": "php"}).Strongest(); got != catalog.Terminate {
		t.Errorf("Strongest = %v", got)
	}
}
