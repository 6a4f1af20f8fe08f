package test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/probes"
)

// reloadWithin is the promise made to operators: an edit is in force
// within a second.
const reloadWithin = time.Second

func php(mitigation string) string {
	return "name = \"php\"\n[labels]\napp = \"php\"\n[[rule]]\nid = \"terminal-shell-in-container\"\nmitigation = \"" + mitigation + "\"\n"
}

// TestHotReload drives the real daemon through the edits an operator makes
// and checks `podguard status` after each one.
func TestHotReload(t *testing.T) {
	in := newInstance(t, "")
	writeFile(t, filepath.Join(in.rules, "00-default.toml"), "name = \"default\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n")
	in.start(t)
	st, err := in.statusErr()
	if err != nil || activeSet(st) != "default" || !st.Enabled || st.Node != "test-node" {
		t.Fatalf("initial status %+v err %v", st, err)
	}
	phpFile := filepath.Join(in.rules, "php.toml")

	// A valid new file is enforced within a second.
	writeFile(t, phpFile, php("isolate"))
	in.waitStatus(t, reloadWithin, "new ruleset php active", func(s api.Status) bool { return activeSet(s) == "default,php" })

	// An invalid edit: the error shows, the last good version stays.
	writeFile(t, phpFile, php("isolate")+"[[rule]]\nid = \"container-drfit\"\nmitigation = \"log\"\n")
	st = in.waitStatus(t, reloadWithin, "php rejected", func(s api.Status) bool { state, _, _, _ := fileState(s, "php.toml"); return state == "error" })
	state, name, lastGood, probs := fileState(st, "php.toml")
	wantProb := phpFile + ":8: unknown rule id \"container-drfit\"; did you mean \"container-drift\"?"
	if name != "php" || !lastGood || !strings.HasPrefix(probs, wantProb) || activeSet(st) != "default,php" {
		t.Fatalf("after bad edit: state %s name %q lastGood %v problems %q active %q", state, name, lastGood, probs, activeSet(st))
	}
	if st.Counters["rule_reload_errors"] == 0 {
		t.Errorf("rule_reload_errors counter did not move: %v", st.Counters)
	}

	// An editor that saves through a rename, with a fix.
	writeByRename(t, phpFile, php("terminate"))
	in.waitStatus(t, reloadWithin, "php fixed through rename", func(s api.Status) bool { state, _, _, _ := fileState(s, "php.toml"); return state == "ok" })

	// Changing the name inside the file is refused; the old name stays.
	writeFile(t, phpFile, strings.Replace(php("log"), "\"php\"", "\"php2\"", 1))
	st = in.waitStatus(t, reloadWithin, "rename refused", func(s api.Status) bool { state, _, _, _ := fileState(s, "php.toml"); return state == "error" })
	if _, name, lastGood, probs := fileState(st, "php.toml"); name != "php" || !lastGood || !strings.Contains(probs, "ruleset name changed from \"php\" to \"php2\"") {
		t.Fatalf("rename: name %q lastGood %v problems %q", name, lastGood, probs)
	}

	// Removing the file ends the ruleset.
	os.Remove(phpFile)
	in.waitStatus(t, reloadWithin, "php removed", func(s api.Status) bool { return activeSet(s) == "default" })

	// Deleted and recreated (now as a new file with another name).
	writeFile(t, phpFile, strings.Replace(php("log"), "\"php\"", "\"php2\"", 1))
	in.waitStatus(t, reloadWithin, "php2 active", func(s api.Status) bool { return activeSet(s) == "default,php2" })
}

// TestEnableDisableAndConfigErrors flips enabled in the config file of a
// running daemon and feeds it a broken config.
func TestEnableDisableAndConfigErrors(t *testing.T) {
	in := newInstance(t, "")
	in.start(t)
	st0 := in.waitStatus(t, reloadWithin, "probes attached", func(s api.Status) bool { return len(s.Probes.Attached) > 0 })
	wantHook := probes.HookRawTracepoint
	for _, f := range probes.ProbeFeatures() {
		if f.Name == "non-preemptible raw tracepoint on sys_enter" && !f.Present {
			wantHook = probes.HookTracepoint
		}
	}
	if st0.Probes.Transport != string(probes.TransportRingBuffer) || st0.Probes.SyscallHook != string(wantHook) {
		t.Errorf("status probes: transport %q, syscall hook %q; want the ring buffer and %q on this kernel", st0.Probes.Transport, st0.Probes.SyscallHook, wantHook)
	}
	in.writeConfig(t, "enabled = false")
	in.waitStatus(t, reloadWithin, "enabled=false", func(s api.Status) bool { return !s.Enabled })

	in.writeConfig(t, "enabled = true\nbogus = 1")
	st := in.waitStatus(t, reloadWithin, "config error reported", func(s api.Status) bool { return s.Config.State == "error" })
	if st.Enabled || !strings.Contains(st.Config.Problems.Error(), `unknown key "bogus"`) {
		t.Fatalf("a rejected config must leave the old one in force: enabled %v problems %v", st.Enabled, st.Config.Problems)
	}

	in.writeConfig(t, "enabled = true")
	in.waitStatus(t, reloadWithin, "enabled again", func(s api.Status) bool { return s.Enabled && s.Config.State == "ok" })

	// SIGHUP re-reads everything too.
	writeFile(t, filepath.Join(in.rules, "x.toml"), php("log"))
	in.cmd.Process.Signal(syscall.SIGHUP)
	in.waitStatus(t, reloadWithin, "SIGHUP reload", func(s api.Status) bool { return activeSet(s) == "php" })
}

func TestSecondInstanceRefused(t *testing.T) {
	in := newInstance(t, "")
	in.start(t)
	_, stderr, code := podguard(t, "run", "--config", in.config)
	if code == 0 || !strings.Contains(stderr, "podguard is already running on this node") {
		t.Fatalf("second run: code %d stderr %q", code, stderr)
	}
	if fi, err := os.Stat(filepath.Join(in.dir, "run", "podguard.sock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("api socket must be mode 0600: %v %v", fi.Mode(), err)
	}
}

func TestStatusWithoutDaemon(t *testing.T) {
	in := newInstance(t, "")
	_, stderr, code := podguard(t, "status", "--config", in.config)
	if code == 0 || !strings.Contains(stderr, "podguard is not running") {
		t.Fatalf("status without daemon: code %d stderr %q", code, stderr)
	}
}

func TestValidateCommand(t *testing.T) {
	if out, _, code := podguard(t, "validate", "../rules.d"); code != 0 || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("shipped rules.d: code %d out %q", code, out)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.toml"), "name = \"a\"\n[[rule]]\nid = \"reverse-shel\"\nmitigation = \"log\"\n")
	writeFile(t, filepath.Join(dir, "b.toml"), "name = \"a\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n")
	os.Mkdir(filepath.Join(dir, "c.toml"), 0o755)
	out, _, code := podguard(t, "validate", dir)
	want := []string{
		dir + "/a.toml:3: unknown rule id \"reverse-shel\"; did you mean \"reverse-shell\"? (`podguard rules` lists the managed rules)",
		dir + "/c.toml: is a directory, not a ruleset file; rename it so it does not end in .toml",
	}
	if code != 1 || strings.TrimSpace(out) != strings.Join(want, "\n") {
		t.Fatalf("validate: code %d\n got:\n%s\nwant:\n%s", code, out, strings.Join(want, "\n"))
	}
}
