package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podguard/podguard/daemon/api"
)

// malformed is one bad edit of a ruleset file and the message the operator
// must see for it.
type malformed struct {
	name  string
	apply func(t *testing.T, path string) // breaks the file at path
	want  string                          // substring of the problem
}

func content(src string) func(t *testing.T, path string) {
	return func(t *testing.T, path string) { writeFile(t, path, src) }
}

const goodPHP = "name = \"php\"\n[labels]\napp = \"php\"\n[[rule]]\nid = \"shadow-file-read\"\nmitigation = \"isolate\"\n"

var malformedRulesets = []malformed{
	{"syntax error", content("name = \"php\"\n[[rule]\n"), ":2: TOML syntax error"},
	{"unterminated string", content("name = \"php\n"), ":1: TOML syntax error"},
	{"wrong type name", content("name = 7\n"), `:1: wrong type for "name"`},
	{"wrong type labels", content("name = \"php\"\nlabels = \"app=php\"\n"), `:2: wrong type for "labels": it must be a table ([labels]), not a string`},
	{"wrong type rule", content("name = \"php\"\nrule = \"x\"\n"), `wrong type for "rule"`},
	{"wrong type mitigation", content("name = \"php\"\n[[rule]]\nid = \"shadow-file-read\"\nmitigation = 1\n"), `wrong type for "rule.mitigation"`},
	{"unknown top key", content(goodPHP + "enabled = true\n"), `:7: unknown key "enabled"`},
	{"unknown rule key", content(goodPHP + "action = \"log\"\n"), `:7: unknown key "action" in [rule]`},
	{"unknown table", content(goodPHP + "[selector]\napp = \"php\"\n"), `:7: unknown key "selector"`},
	{"empty file", content(""), ":1: file is empty"},
	{"only comments", content("# nothing\n"), ":1: ruleset has no name"},
	{"binary garbage", content("\x7fELF\x02\x01\x01\x00\x00\x00"), "TOML syntax error"},
	{"invalid utf-8", content("name = \"php\"\ndescription = \"caf\xe9\"\n"), ":2: file is not valid UTF-8"},
	{"utf-16", content("\xff\xfen\x00a\x00"), "not valid UTF-8"},
	{"huge file", content("name = \"php\"\n" + strings.Repeat("# padding padding padding padding\n", 40000)), "larger than the 1048576-byte limit"},
	{"missing name", content("[[rule]]\nid = \"*\"\nmitigation = \"log\"\n"), ":1: ruleset has no name"},
	{"invalid name", content("name = \"PHP tier\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n"), `ruleset name "PHP tier" is not valid`},
	{"renamed", content(strings.Replace(goodPHP, `"php"`, `"php2"`, 1)), `ruleset name changed from "php" to "php2"`},
	{"duplicate name", content(strings.Replace(goodPHP, `name = "php"`, `name = "base"`, 1)), `ruleset name "base" is already used by`},
	{"unknown rule id", content(strings.Replace(goodPHP, "shadow-file-read", "shadow-read", 1)), `unknown rule id "shadow-read"; did you mean "shadow-file-read"?`},
	{"empty rule id", content(strings.Replace(goodPHP, `id = "shadow-file-read"`, `id = ""`, 1)), "[[rule]] has no id"},
	{"invalid mitigation", content(strings.Replace(goodPHP, `"isolate"`, `"quarantine"`, 1)), `mitigation "quarantine" is not valid`},
	{"missing mitigation", content("name = \"php\"\n[[rule]]\nid = \"shadow-file-read\"\n"), `has no mitigation`},
	{"rule twice", content(goodPHP + "[[rule]]\nid = \"shadow-file-read\"\nmitigation = \"log\"\n"), "is listed twice in this ruleset (first on line 5)"},
	{"no rules", content("name = \"php\"\n"), "ruleset enables no rules"},
	{"invalid label key", content(strings.Replace(goodPHP, "app =", "\"app name\" =", 1)), `label key "app name"`},
	{"invalid label value", content(strings.Replace(goodPHP, `app = "php"`, `app = "-php"`, 1)), `label value "-php"`},
	{"too long label value", content(strings.Replace(goodPHP, `app = "php"`, `app = "`+strings.Repeat("p", 64)+`"`, 1)), "at most 63 characters"},
	{"bad label prefix", content(strings.Replace(goodPHP, "app =", "\"Example.COM/app\" =", 1)), "must be a DNS subdomain"},
	{"world-writable file", func(t *testing.T, p string) { writeFile(t, p, goodPHP); os.Chmod(p, 0o666) }, "writable by group or others (mode 0666)"},
	{"owned by another user", func(t *testing.T, p string) {
		writeFile(t, p, goodPHP)
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Skipf("chown needs root: %v", err)
		}
	}, "owned by uid 65534, not root"},
	{"dangling symlink", func(t *testing.T, p string) { os.Remove(p); os.Symlink(filepath.Join(filepath.Dir(p), "gone"), p) }, "symlink to a file that does not exist"},
	{"directory named .toml", func(t *testing.T, p string) { os.Remove(p); os.Mkdir(p, 0o755) }, "is a directory, not a ruleset file"},
}

// TestMalformedRulesetsKeepLastGood feeds the running daemon every kind of
// bad ruleset file, one after the other, and checks after each that the
// problem is reported with file and line and the last good version of the
// ruleset is still the one in force.
func TestMalformedRulesetsKeepLastGood(t *testing.T) {
	if len(malformedRulesets) < 30 {
		t.Fatalf("only %d malformed cases", len(malformedRulesets))
	}
	in := newInstance(t, "")
	writeFile(t, filepath.Join(in.rules, "00-base.toml"), "name = \"base\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n")
	path := filepath.Join(in.rules, "php.toml")
	writeFile(t, path, goodPHP)
	in.start(t)
	in.waitStatus(t, reloadWithin, "good rulesets", func(s api.Status) bool { return activeSet(s) == "base,php" })
	for _, c := range malformedRulesets {
		t.Run(c.name, func(t *testing.T) {
			c.apply(t, path)
			st := in.waitStatus(t, 3*reloadWithin, "problem reported", func(s api.Status) bool {
				_, _, _, probs := fileState(s, "php.toml")
				return strings.Contains(probs, c.want)
			})
			state, name, lastGood, probs := fileState(st, "php.toml")
			if !strings.HasPrefix(probs, path) {
				t.Errorf("problem does not start with the file name: %q", probs)
			}
			if state != "error" || name != "php" || !lastGood || activeSet(st) != "base,php" {
				t.Errorf("last good not in force: state %s name %q lastGood %v active %q problems %q", state, name, lastGood, activeSet(st), probs)
			}
			// podguard validate says the same, with exit code 1.
			if c.name != "renamed" { // the rename rule needs the daemon's memory
				out, _, code := podguard(t, "validate", in.rules)
				if code != 1 || !strings.Contains(out, c.want) {
					t.Errorf("validate: code %d output %q", code, out)
				}
			}
			// Restore the good file for the next case.
			os.RemoveAll(path)
			writeFile(t, path, goodPHP)
			in.waitStatus(t, 3*reloadWithin, "good again", func(s api.Status) bool {
				state, _, _, _ := fileState(s, "php.toml")
				return state == "ok"
			})
		})
	}
}
