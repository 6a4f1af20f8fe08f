package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeRuleset(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

const goodRuleset = "name = \"php\"\n[labels]\napp = \"php\"\n[[rule]]\nid = \"terminal-shell-in-container\"\nmitigation = \"isolate\"\n"

func TestValidateGood(t *testing.T) {
	dir := t.TempDir()
	writeRuleset(t, dir, "php.toml", goodRuleset)
	writeRuleset(t, dir, "all.toml", "name = \"all\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n")
	stdout, stderr, code := runCLI(t, "validate", dir)
	if code != 0 || stdout != "ok: 2 ruleset file(s) valid\n" || stderr != "" {
		t.Fatalf("validate: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestValidateBad: each problem is FILE:LINE: message on stdout, a count
// on stderr, exit 1.
func TestValidateBad(t *testing.T) {
	dir := t.TempDir()
	writeRuleset(t, dir, "php.toml", goodRuleset)
	bad := writeRuleset(t, dir, "typo.toml", "name = \"typo\"\n[[rule]]\nid = \"container-drfit\"\nmitigation = \"log\"\n")
	stdout, stderr, code := runCLI(t, "validate", dir)
	if code != 1 || stderr != "1 problem(s) in 2 file(s) checked\n" {
		t.Errorf("validate: exit %d, stderr %q", code, stderr)
	}
	if !strings.HasPrefix(stdout, bad+":3: ") || !strings.Contains(stdout, `"container-drfit"`) || strings.Count(stdout, "\n") != 1 {
		t.Errorf("validate printed %q, want one line %s:3: naming the unknown rule id", stdout, bad)
	}
}

// TestValidateConfiguredDir: without paths, validate checks the rules
// directory of the config; when there is none, it says what runs instead.
func TestValidateConfiguredDir(t *testing.T) {
	dir := t.TempDir()
	writeRuleset(t, dir, "syntax.toml", "name = \"syntax\"\n[[rule]\n")
	cfg := writeConfig(t, filepath.Join(dir, "podguard.sock"), filepath.Join(dir, "events.jsonl"), "rules_dir = \""+dir+"\"")
	stdout, _, code := runCLI(t, "validate", "--config", cfg)
	if code != 1 || !strings.HasPrefix(stdout, filepath.Join(dir, "syntax.toml")+":2: ") {
		t.Errorf("validate --config: exit %d, stdout %q", code, stdout)
	}

	missing := filepath.Join(dir, "absent")
	cfg = writeConfig(t, filepath.Join(dir, "podguard.sock"), filepath.Join(dir, "events.jsonl"), "rules_dir = \""+missing+"\"")
	stdout, stderr, code := runCLI(t, "validate", "--config", cfg)
	want := "rules directory " + missing + " does not exist: podguard uses its built-in rulesets (`podguard rules` lists the managed rules)\n"
	if code != 0 || stdout != "" || stderr != want {
		t.Errorf("validate without a rules directory: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestBadConfig: a config with problems is reported as FILE:LINE lines,
// not wrapped in the command's name.
func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, filepath.Join(dir, "podguard.sock"), filepath.Join(dir, "events.jsonl"), "enabled = \"yes\"")
	_, stderr, code := runCLI(t, "validate", "--config", cfg)
	if code != 1 || !strings.HasPrefix(stderr, cfg+":1: ") {
		t.Errorf("validate with a bad config: exit %d, stderr %q", code, stderr)
	}
}
