package pkgbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func rpmQuery(t *testing.T, rpm, format string) string {
	t.Helper()
	return sh(t, "rpm", "-qp", "--qf", format, rpm)
}

func TestRPMMetadata(t *testing.T) {
	need(t, "rpm")
	got := rpmQuery(t, pkgs.RPM, "%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{URL}|%{PACKAGER}|%{SUMMARY}")
	want := "podguard|1.2.3|1|x86_64|Apache-2.0|" + Homepage + "|" + Maintainer + "|" + Summary
	if got != want {
		t.Errorf("rpm metadata\n got %s\nwant %s", got, want)
	}
	if filepath.Base(pkgs.RPM) != "podguard-1.2.3-1.x86_64.rpm" {
		t.Errorf("rpm file name %s", filepath.Base(pkgs.RPM))
	}
	var deps []string
	for _, r := range strings.Split(sh(t, "rpm", "-qpR", pkgs.RPM), "\n") {
		// rpm's own capabilities and the scriptlets' shell are not
		// dependencies on other packages.
		if r != "" && !strings.HasPrefix(r, "rpmlib(") && r != "/bin/sh" {
			deps = append(deps, r)
		}
	}
	if len(deps) > 0 {
		t.Errorf("rpm depends on %q, want nothing (static binary)", deps)
	}
}

func TestRPMFiles(t *testing.T) {
	need(t, "rpm")
	lines := strings.Split(strings.TrimSpace(rpmQuery(t, pkgs.RPM, "[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags}| %{FILENAMES}\n]")), "\n")
	got := map[string]string{}
	for _, l := range lines {
		attrs, name, _ := strings.Cut(l, "| ")
		got[name] = strings.TrimSpace(attrs)
	}
	want := map[string]string{
		"/usr/bin/podguard":                        "-rwxr-xr-x root:root",
		"/usr/lib/systemd/system/podguard.service": "-rw-r--r-- root:root",
		"/etc/podguard":                            "drwxr-xr-x root:root",
		"/etc/podguard/config.toml":                "-rw-r--r-- root:root cn",
		"/etc/podguard/rules.d":                    "drwxr-xr-x root:root",
		"/var/lib/podguard":                        "drwx------ root:root",
		"/var/log/podguard":                        "drwxr-x--- root:root",
	}
	for _, r := range shippedRules(t) {
		want[r] = "-rw-r--r-- root:root cn" // c: %config, n: noreplace
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("rpm %s: %q, want %q", name, got[name], w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected path in the rpm: %s", name)
		}
	}

	cfg := strings.Fields(sh(t, "rpm", "-qp", "--configfiles", pkgs.RPM))
	wantCfg := append([]string{"/etc/podguard/config.toml"}, shippedRules(t)...)
	slices.Sort(cfg)
	slices.Sort(wantCfg)
	if !slices.Equal(cfg, wantCfg) {
		t.Errorf("rpm --configfiles = %q, want %q", cfg, wantCfg)
	}

	scripts := sh(t, "rpm", "-qp", "--scripts", pkgs.RPM)
	for _, s := range []string{"postinstall", "preremove", "postremove"} {
		body := strings.TrimSpace(readFile(t, filepath.Join(repo, "packaging/scripts", s+".sh")))
		if !strings.Contains(scripts, body) {
			t.Errorf("rpm does not carry packaging/scripts/%s.sh", s)
		}
	}
}

// TestRPMUpgradeKeepsConfig installs the rpm into a throwaway root
// (scriptlets off: that root has no shell), edits the config, upgrades and
// erases, as rpm -U and rpm -e do on a node.
func TestRPMUpgradeKeepsConfig(t *testing.T) {
	needRoot(t)
	need(t, "rpm")
	root := t.TempDir()
	at := func(p string) string { return filepath.Join(root, p) }
	rpm := func(args ...string) {
		t.Helper()
		sh(t, "rpm", append([]string{"--root", root, "--nodeps", "--noscripts"}, args...)...)
	}
	sh(t, "rpm", "--root", root, "--initdb")
	rpm("-i", pkgs.RPM)
	if fi, err := os.Stat(at("usr/bin/podguard")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("rpm -i: binary %v", err)
	}
	edited := strings.Replace(readFile(t, at("etc/podguard/config.toml")), `# dry_run = false`, `dry_run = true`, 1)
	if err := os.WriteFile(at("etc/podguard/config.toml"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	rpm("-U", buildAt(t, repo, "1.3.0", "rpm").RPM)
	if readFile(t, at("etc/podguard/config.toml")) != edited {
		t.Error("rpm -U to 1.3.0 changed the edited config.toml")
	}

	changed := repoCopy(t)
	tmpl := readFile(t, filepath.Join(changed, "packaging/config.toml")) + "\n# a setting documented in 1.4.0\n"
	if err := os.WriteFile(filepath.Join(changed, "packaging/config.toml"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	rpm("-U", buildAt(t, changed, "1.4.0", "rpm").RPM)
	if got := strings.TrimSpace(sh(t, "rpm", "--root", root, "-q", "podguard")); got != "podguard-1.4.0-1.x86_64" {
		t.Errorf("after rpm -U: %s", got)
	}
	if readFile(t, at("etc/podguard/config.toml")) != edited {
		t.Error("rpm -U to 1.4.0 changed the edited config.toml")
	}
	if readFile(t, at("etc/podguard/config.toml.rpmnew")) != tmpl {
		t.Error("rpm -U to 1.4.0 did not leave the new template as config.toml.rpmnew")
	}

	rpm("-e", "podguard")
	if _, err := os.Stat(at("usr/bin/podguard")); err == nil {
		t.Error("binary still there after rpm -e")
	}
	if readFile(t, at("etc/podguard/config.toml.rpmsave")) != edited {
		t.Error("rpm -e did not save the edited config as config.toml.rpmsave")
	}
	if out, err := exec.Command("rpm", "--root", root, "-q", "podguard").CombinedOutput(); err == nil {
		t.Errorf("rpm still knows podguard after -e: %s", out)
	}
}
