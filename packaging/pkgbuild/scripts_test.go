package pkgbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runScript runs a maintainer script with a stand-in systemctl that logs
// its arguments (withSystemctl), or with no systemctl on PATH at all, and
// returns the systemctl calls made.
func runScript(t *testing.T, script string, withSystemctl bool, env []string, args ...string) []string {
	t.Helper()
	return runScriptIn(t, nil, script, withSystemctl, env, args...)
}

// runScriptIn is runScript with the script started through wrap (a
// command that ends by executing its arguments).
func runScriptIn(t *testing.T, wrap []string, script string, withSystemctl bool, env []string, args ...string) []string {
	t.Helper()
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "calls")
	if withSystemctl {
		fake := "#!/bin/sh\necho \"$*\" >>" + log + "\n"
		if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	shell, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	argv := append(append(wrap, shell, filepath.Join(repo, "packaging/scripts", script)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	// Only the stand-in directory: the scripts use shell builtins and
	// systemctl, nothing else, outside a purge.
	cmd.Env = append([]string{"PATH=" + bin}, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %q failed (it must never fail the package operation): %v\n%s", script, args, err, out)
	}
	data, _ := os.ReadFile(log)
	var calls []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l != "" {
			calls = append(calls, l)
		}
	}
	return calls
}

func TestMaintainerScripts(t *testing.T) {
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("systemd runs here: the stand-in would be asked to daemon-reload/start; this test covers the offline path")
	}
	cases := []struct {
		script string
		args   []string
		env    []string
		want   string // systemctl calls, joined with ";"
	}{
		{"postinstall.sh", []string{"configure"}, nil, "enable podguard.service"},
		{"postinstall.sh", []string{"configure", ""}, nil, "enable podguard.service"},
		{"postinstall.sh", []string{"1"}, nil, "enable podguard.service"}, // rpm first install
		{"postinstall.sh", []string{"configure", "1.2.3"}, nil, ""},       // deb upgrade: the operator's choice stays
		{"postinstall.sh", []string{"2"}, nil, ""},                        // rpm upgrade
		{"postinstall.sh", []string{"abort-upgrade", "1.3.0"}, nil, ""},
		{"postinstall.sh", []string{"configure"}, []string{"PODGUARD_START=1"}, "enable podguard.service"}, // no running systemd: nothing to start
		{"postinstall.sh", []string{"configure"}, []string{"DPKG_ROOT=/img"}, "--root=/img enable podguard.service"},
		{"preremove.sh", []string{"remove"}, nil, "disable podguard.service"},
		{"preremove.sh", []string{"0"}, nil, "disable podguard.service"}, // rpm erase
		{"preremove.sh", []string{"upgrade", "1.3.0"}, nil, ""},
		{"preremove.sh", []string{"1"}, nil, ""}, // rpm upgrade
		{"preremove.sh", []string{"remove"}, []string{"DPKG_ROOT=/img"}, "--root=/img disable podguard.service"},
		{"postremove.sh", []string{"remove"}, nil, ""},
		{"postremove.sh", []string{"0"}, nil, ""},
	}
	for _, c := range cases {
		got := strings.Join(runScript(t, c.script, true, c.env, c.args...), ";")
		if got != c.want {
			t.Errorf("%s %q %q: systemctl calls %q, want %q", c.script, c.args, c.env, got, c.want)
		}
		// Without systemctl (a container, a chroot without systemd) the
		// scripts succeed and do nothing.
		runScript(t, c.script, false, c.env, c.args...)
	}
}

func TestPurgeRemovesStateOnlyOnPurge(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"var/lib/podguard", "var/log/podguard"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", filepath.Join(repo, "packaging/scripts/postremove.sh"), "remove")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "DPKG_ROOT=" + root}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("postremove remove: %v %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/podguard")); err != nil {
		t.Error("postremove remove deleted the state directory; only purge may")
	}
	cmd = exec.Command("sh", filepath.Join(repo, "packaging/scripts/postremove.sh"), "purge")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "DPKG_ROOT=" + root}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("postremove purge: %v %s", err, out)
	}
	for _, d := range []string{"var/lib/podguard", "var/log/podguard"} {
		if _, err := os.Stat(filepath.Join(root, d)); err == nil {
			t.Errorf("purge left %s", d)
		}
	}
}

// TestMaintainerScriptsUnderSystemd runs the scripts as on a booted
// systemd node: a private mount namespace gets /run/systemd/system.
func TestMaintainerScriptsUnderSystemd(t *testing.T) {
	needRoot(t)
	need(t, "unshare", "mount", "mkdir")
	mount, _ := exec.LookPath("mount")
	mkdir, _ := exec.LookPath("mkdir")
	unshare, _ := exec.LookPath("unshare")
	wrap := []string{unshare, "-m", "--propagation", "private", "/bin/sh", "-c",
		mount + ` -t tmpfs podguard-test /run && ` + mkdir + ` -p /run/systemd/system && exec "$@"`, "wrap"}
	cases := []struct {
		script string
		args   []string
		env    []string
		want   string
	}{
		{"postinstall.sh", []string{"configure"}, nil, "enable podguard.service;daemon-reload"},
		{"postinstall.sh", []string{"1"}, []string{"PODGUARD_START=1"}, "enable podguard.service;daemon-reload;start podguard.service"},
		{"postinstall.sh", []string{"configure", "1.2.3"}, nil, "daemon-reload;try-restart podguard.service"},
		{"postinstall.sh", []string{"2"}, nil, "daemon-reload;try-restart podguard.service"},
		{"preremove.sh", []string{"remove"}, nil, "stop podguard.service;disable podguard.service"},
		{"preremove.sh", []string{"upgrade", "1.3.0"}, nil, ""},
		{"postremove.sh", []string{"purge"}, []string{"DPKG_ROOT=" + t.TempDir()}, ""},
		{"postremove.sh", []string{"0"}, nil, "daemon-reload"},
	}
	for _, c := range cases {
		got := strings.Join(runScriptIn(t, wrap, c.script, true, c.env, c.args...), ";")
		if got != c.want {
			t.Errorf("%s %q %q under systemd: systemctl calls %q, want %q", c.script, c.args, c.env, got, c.want)
		}
	}
}
