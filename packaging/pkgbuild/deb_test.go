package pkgbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hasSystemctl: the maintainer scripts enable the unit in the throwaway
// root with systemctl --root, which needs systemctl on this machine.
var _, errNoSystemctl = exec.LookPath("systemctl")
var hasSystemctl = errNoSystemctl == nil

func TestDebMetadata(t *testing.T) {
	need(t, "dpkg-deb")
	for field, want := range map[string]string{
		"Package":      "podguard",
		"Version":      "1.2.3",
		"Architecture": "amd64",
		"Maintainer":   Maintainer,
		"Homepage":     Homepage,
		"Section":      "admin",
		"Depends":      "",
		"Pre-Depends":  "",
	} {
		if got := strings.TrimSpace(sh(t, "dpkg-deb", "-f", pkgs.Deb, field)); got != want {
			t.Errorf("deb %s = %q, want %q", field, got, want)
		}
	}
	if got := sh(t, "dpkg-deb", "-f", pkgs.Deb, "Description"); !strings.Contains(got, "Runtime security for Kubernetes nodes") {
		t.Errorf("deb Description = %q", got)
	}
	if filepath.Base(pkgs.Deb) != "podguard_1.2.3_amd64.deb" {
		t.Errorf("deb file name %s, want podguard_1.2.3_amd64.deb", filepath.Base(pkgs.Deb))
	}
}

// debTree is the deb's data archive, as dpkg would unpack it.
func debTree(t *testing.T, deb string) map[string]tarEntry {
	t.Helper()
	out := sh(t, "dpkg-deb", "--fsys-tarfile", deb)
	return readTar(t, strings.NewReader(out), false)
}

// debControl is one file of the deb's control archive ("" when absent).
func debControl(t *testing.T, deb, name string) string {
	t.Helper()
	tree := readTar(t, strings.NewReader(sh(t, "dpkg-deb", "--ctrl-tarfile", deb)), false)
	return string(tree[name].data)
}

func TestDebFiles(t *testing.T) {
	need(t, "dpkg-deb")
	tree := debTree(t, pkgs.Deb)
	checkTree(t, tree, installed("lib/systemd/system/podguard.service"))
	for p, e := range tree {
		if !e.dir && !slices.Contains([]string{"usr/bin/podguard", "lib/systemd/system/podguard.service", "etc/podguard/config.toml"}, p) &&
			!strings.HasPrefix(p, "etc/podguard/rules.d/") {
			t.Errorf("unexpected file in the deb: %s", p)
		}
	}

	conffiles := strings.Fields(debControl(t, pkgs.Deb, "conffiles"))
	want := append([]string{"/etc/podguard/config.toml"}, shippedRules(t)...)
	slices.Sort(conffiles)
	slices.Sort(want)
	if !slices.Equal(conffiles, want) {
		t.Errorf("conffiles = %q, want %q", conffiles, want)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if !strings.HasPrefix(debControl(t, pkgs.Deb, s), "#!/bin/sh") {
			t.Errorf("deb has no %s script", s)
		}
	}
}

// TestDebBinaryAndUnit runs the packaged binary and verifies the packaged
// unit with systemd-analyze, its ExecStart pointed at that binary.
func TestDebBinaryAndUnit(t *testing.T) {
	need(t, "dpkg-deb")
	tree := debTree(t, pkgs.Deb)
	dir := t.TempDir()
	bin := filepath.Join(dir, "podguard")
	if err := os.WriteFile(bin, tree["usr/bin/podguard"].data, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(sh(t, bin, "version")); got != "podguard "+binVersion {
		t.Errorf("packaged binary says %q, want %q", got, "podguard "+binVersion)
	}
	unit := string(tree["lib/systemd/system/podguard.service"].data)
	if !strings.Contains(unit, "\nExecStart=/usr/bin/podguard run\n") {
		t.Fatalf("packaged unit does not run /usr/bin/podguard:\n%s", unit)
	}
	need(t, "systemd-analyze")
	verifyUnit(t, strings.Replace(unit, "ExecStart=/usr/bin/podguard ", "ExecStart="+bin+" ", 1))
}

// verifyUnit runs systemd-analyze verify on unit text; any message fails.
func verifyUnit(t *testing.T, unit string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "podguard.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", path).CombinedOutput()
	var msgs []string
	for _, l := range strings.Split(string(out), "\n") {
		// Units named in After=/Before= that this machine lacks are not the
		// unit's problem.
		if l == "" || strings.Contains(l, "kubelet.service") || strings.Contains(l, "containerd.service") {
			continue
		}
		msgs = append(msgs, l)
	}
	if err != nil || len(msgs) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, strings.Join(msgs, "\n"))
	}
}

// dpkgRoot is an empty root with a dpkg database, for dpkg --root.
func dpkgRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// dpkg runs dpkg on root; maintainer scripts run outside a chroot with
// DPKG_ROOT set, as for a foreign root.
func dpkg(t *testing.T, root string, args ...string) string {
	t.Helper()
	return sh(t, "dpkg", append([]string{"--root=" + root, "--force-script-chrootless"}, args...)...)
}

func dpkgVersion(t *testing.T, root string) string {
	t.Helper()
	return strings.TrimSpace(sh(t, "dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f=${Version} ${Status}", "podguard"))
}

// repoCopy copies what the packager reads from the repository, so a test
// can change it (a new config template) without touching the tree.
func repoCopy(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, dir := range []string{"systemd", "rules.d", "packaging/scripts", "packaging/tarball"} {
		if err := os.CopyFS(filepath.Join(dst, dir), os.DirFS(filepath.Join(repo, dir))); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(repo, "packaging/config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "packaging/config.toml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

func buildAt(t *testing.T, repoDir, version string, formats ...string) Result {
	t.Helper()
	r, err := Build(Options{Binary: testBin, Version: version, Repo: repoDir, Out: t.TempDir(), Formats: formats})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDebInstallUpgradeRemove installs the .deb into a throwaway root,
// edits the config, upgrades twice (the second time with a changed config
// template) and removes and purges it, checking what an operator would.
func TestDebInstallUpgradeRemove(t *testing.T) {
	needRoot(t)
	need(t, "dpkg", "dpkg-query")
	root := dpkgRoot(t)
	at := func(p string) string { return filepath.Join(root, p) }

	dpkg(t, root, "-i", pkgs.Deb)
	if got := dpkgVersion(t, root); got != "1.2.3 install ok installed" {
		t.Fatalf("after install: %q", got)
	}
	for path, mode := range map[string]os.FileMode{
		"usr/bin/podguard": 0o755, "etc/podguard/config.toml": 0o644, "etc/podguard/rules.d/default.toml": 0o644,
		"lib/systemd/system/podguard.service": 0o644, "var/lib/podguard": 0o700 | os.ModeDir, "var/log/podguard": 0o750 | os.ModeDir,
	} {
		fi, err := os.Stat(at(path))
		if err != nil {
			t.Errorf("installed: %v", err)
			continue
		}
		if fi.Mode()&(os.ModeDir|os.ModePerm) != mode {
			t.Errorf("%s installed with mode %v, want %v", path, fi.Mode(), mode)
		}
	}
	wants := at("etc/systemd/system/multi-user.target.wants/podguard.service")
	if hasSystemctl {
		if target, err := os.Readlink(wants); err != nil || target != "/lib/systemd/system/podguard.service" {
			t.Errorf("postinst did not enable podguard.service: %v %q", err, target)
		}
	}

	// The installed binary accepts the installed rulesets (owner and modes
	// included: podguard refuses rule files others could write).
	if out, err := exec.Command(at("usr/bin/podguard"), "validate", at("etc/podguard/rules.d")).CombinedOutput(); err != nil {
		t.Errorf("podguard validate on the installed rules.d: %v\n%s", err, out)
	}

	// The operator edits the config.
	edited := strings.Replace(readFile(t, at("etc/podguard/config.toml")), `# cluster = ""`, `cluster = "prod-eu"`, 1)
	if err := os.WriteFile(at("etc/podguard/config.toml"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	// Upgrade with the same config template: the edit stays, no prompt.
	same := buildAt(t, repo, "1.3.0", "deb")
	dpkg(t, root, "-i", same.Deb)
	if got := dpkgVersion(t, root); got != "1.3.0 install ok installed" {
		t.Fatalf("after upgrade to 1.3.0: %q", got)
	}
	if readFile(t, at("etc/podguard/config.toml")) != edited {
		t.Error("upgrade to 1.3.0 changed the edited config.toml")
	}

	// Upgrade with a changed template, unattended (--force-confdef
	// --force-confold, what apt does with -o Dpkg::Options::=...): the edit
	// stays and the new template lands beside it as .dpkg-dist.
	changed := repoCopy(t)
	tmpl := readFile(t, filepath.Join(changed, "packaging/config.toml")) + "\n# a setting documented in 1.4.0\n"
	if err := os.WriteFile(filepath.Join(changed, "packaging/config.toml"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	newer := buildAt(t, changed, "1.4.0", "deb")
	dpkg(t, root, "--force-confdef", "--force-confold", "-i", newer.Deb)
	if got := dpkgVersion(t, root); got != "1.4.0 install ok installed" {
		t.Fatalf("after upgrade to 1.4.0: %q", got)
	}
	if readFile(t, at("etc/podguard/config.toml")) != edited {
		t.Error("upgrade to 1.4.0 changed the edited config.toml")
	}
	if readFile(t, at("etc/podguard/config.toml.dpkg-dist")) != tmpl {
		t.Error("upgrade to 1.4.0 did not leave the new template as config.toml.dpkg-dist")
	}
	if _, err := os.Lstat(wants); err != nil && hasSystemctl {
		t.Errorf("podguard.service no longer enabled after upgrades: %v", err)
	}

	// Remove: the binary and unit go, the config and state stay, the unit
	// is disabled.
	dpkg(t, root, "-r", "podguard")
	for _, p := range []string{"usr/bin/podguard", "lib/systemd/system/podguard.service", "etc/systemd/system/multi-user.target.wants/podguard.service"} {
		if _, err := os.Lstat(at(p)); err == nil {
			t.Errorf("%s still there after dpkg -r", p)
		}
	}
	if readFile(t, at("etc/podguard/config.toml")) != edited {
		t.Error("dpkg -r did not keep the edited config.toml")
	}

	// Purge: config, rulesets, state and logs go.
	dpkg(t, root, "--purge", "podguard")
	for _, p := range []string{"etc/podguard/config.toml", "etc/podguard/rules.d/default.toml", "var/lib/podguard", "var/log/podguard"} {
		if _, err := os.Lstat(at(p)); err == nil {
			t.Errorf("%s still there after dpkg --purge", p)
		}
	}
	if out, err := exec.Command("dpkg-query", "--admindir="+at("var/lib/dpkg"), "-W", "podguard").CombinedOutput(); err == nil {
		t.Errorf("dpkg still knows podguard after purge: %s", out)
	}
}
