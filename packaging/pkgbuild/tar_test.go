package pkgbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestTarball(t *testing.T) {
	if filepath.Base(pkgs.Tar) != "podguard-1.2.3-linux-amd64.tar.gz" {
		t.Errorf("tarball name %s", filepath.Base(pkgs.Tar))
	}
	f, err := os.Open(pkgs.Tar)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all := readTar(t, f, true)
	tree := map[string]tarEntry{}
	for name, e := range all {
		rel, ok := strings.CutPrefix(name, "podguard-1.2.3/")
		if !ok && name != "podguard-1.2.3" {
			t.Errorf("%s is outside podguard-1.2.3/", name)
		}
		tree[rel] = e
	}
	checkTree(t, tree, append(installed("lib/systemd/system/podguard.service"),
		want{path: "install.sh", mode: 0o755, src: filepath.Join(repo, "packaging/tarball/install.sh")}))
}

// unpack extracts the tarball with tar(1), as an operator would.
func unpack(t *testing.T) string {
	t.Helper()
	need(t, "tar")
	dir := t.TempDir()
	sh(t, "tar", "-xzf", pkgs.Tar, "-C", dir)
	return filepath.Join(dir, "podguard-1.2.3")
}

func installSh(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return sh(t, "sh", append([]string{filepath.Join(dir, "install.sh")}, args...)...)
}

func TestTarballInstallSh(t *testing.T) {
	dir := unpack(t)
	root := t.TempDir()
	at := func(p string) string { return filepath.Join(root, p) }

	out := installSh(t, dir, "--root", root)
	if !strings.Contains(out, "installed podguard "+binVersion) {
		t.Errorf("install.sh said %q", out)
	}
	for path, mode := range map[string]os.FileMode{
		"usr/bin/podguard": 0o755, "lib/systemd/system/podguard.service": 0o644,
		"etc/podguard/config.toml": 0o644, "etc/podguard/rules.d/default.toml": 0o644,
		"var/lib/podguard": 0o700 | os.ModeDir, "var/log/podguard": 0o750 | os.ModeDir,
	} {
		fi, err := os.Stat(at(path))
		if err != nil {
			t.Errorf("install.sh: %v", err)
		} else if fi.Mode()&(os.ModeDir|os.ModePerm) != mode {
			t.Errorf("install.sh: %s mode %v, want %v", path, fi.Mode(), mode)
		}
	}
	if readFile(t, at("lib/systemd/system/podguard.service")) != readFile(t, filepath.Join(repo, "systemd/podguard.service")) {
		t.Error("install.sh changed the unit without --bindir")
	}
	if hasSystemctl {
		if _, err := os.Lstat(at("etc/systemd/system/multi-user.target.wants/podguard.service")); err != nil {
			t.Errorf("install.sh --root did not enable the unit: %v", err)
		}
	}

	// Reinstalling keeps the operator's config and puts the shipped one
	// beside it.
	edited := readFile(t, at("etc/podguard/config.toml")) + "cluster = \"prod-eu\"\n"
	if err := os.WriteFile(at("etc/podguard/config.toml"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	out = installSh(t, dir, "--root", root)
	if readFile(t, at("etc/podguard/config.toml")) != edited {
		t.Error("install.sh overwrote the edited config.toml")
	}
	if readFile(t, at("etc/podguard/config.toml.new")) != readFile(t, filepath.Join(repo, "packaging/config.toml")) {
		t.Error("install.sh did not write the shipped config as config.toml.new")
	}
	if !strings.Contains(out, "kept") {
		t.Errorf("install.sh did not say it kept the config: %q", out)
	}
	if _, err := os.Stat(at("etc/podguard/rules.d/default.toml.new")); err == nil {
		t.Error("install.sh wrote default.toml.new for an unchanged ruleset")
	}
}

// TestTarballInstallShBindir installs as on a read-only /usr (COS): the
// binary in an executable stateful directory, the unit in /etc.
func TestTarballInstallShBindir(t *testing.T) {
	dir := unpack(t)
	root := t.TempDir()
	installSh(t, dir, "--root", root, "--bindir", "/var/lib/google/podguard", "--unitdir", "/etc/systemd/system")
	bin := filepath.Join(root, "var/lib/google/podguard/podguard")
	if got := strings.TrimSpace(sh(t, bin, "version")); got != "podguard "+binVersion {
		t.Errorf("installed binary says %q", got)
	}
	unit := readFile(t, filepath.Join(root, "etc/systemd/system/podguard.service"))
	if !strings.Contains(unit, "\nExecStart=/var/lib/google/podguard/podguard run\n") {
		t.Errorf("unit does not run the binary from --bindir:\n%s", unit)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/bin/podguard")); err == nil {
		t.Error("--bindir also wrote /usr/bin/podguard")
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		verifyUnit(t, strings.Replace(unit, "/var/lib/google/podguard/podguard", bin, 1))
	}
}
