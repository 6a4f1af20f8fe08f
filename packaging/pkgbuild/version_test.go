package pkgbuild

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionOrder builds packages for the kinds of version `make package`
// passes and asks dpkg and rpm themselves how they order: an upgrade path
// must never look like a downgrade.
func TestVersionOrder(t *testing.T) {
	need(t, "dpkg", "dpkg-deb")
	// Oldest first.
	versions := []string{"e01c38c-dirty", "v1.4.0-rc.1", "1.4.0", "v1.4.0-3-gabc1234-dirty", "v1.5.0"}
	wantDeb := []string{"0.0.0~dev.e01c38c.dirty", "1.4.0~rc.1", "1.4.0", "1.4.0+git.3.gabc1234.dirty", "1.5.0"}
	var debs, rpms []string
	for i, v := range versions {
		formats := []string{"deb", "rpm", "tar"}
		if _, err := exec.LookPath("rpm"); err != nil {
			formats = []string{"deb", "tar"}
		}
		r, err := Build(Options{Binary: testBin, Version: v, Repo: repo, Out: t.TempDir(), Formats: formats})
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		got := strings.TrimSpace(sh(t, "dpkg-deb", "-f", r.Deb, "Version"))
		if got != wantDeb[i] {
			t.Errorf("version %s: deb version %q, want %q", v, got, wantDeb[i])
		}
		if !strings.HasPrefix(filepath.Base(r.Tar), "podguard-") {
			t.Errorf("tarball %s", r.Tar)
		}
		debs = append(debs, got)
		if _, err := exec.LookPath("rpm"); err == nil {
			rpms = append(rpms, rpmQuery(t, r.RPM, "%{VERSION}-%{RELEASE}"))
		}
	}
	for i := 1; i < len(debs); i++ {
		if err := exec.Command("dpkg", "--compare-versions", debs[i-1], "lt", debs[i]).Run(); err != nil {
			t.Errorf("dpkg does not order %s before %s", debs[i-1], debs[i])
		}
	}
	for i := 1; i < len(rpms); i++ {
		cmp := strings.TrimSpace(sh(t, "rpm", "--eval", `%{lua: print(rpm.vercmp("`+rpms[i-1]+`", "`+rpms[i]+`"))}`))
		if cmp != "-1" {
			t.Errorf("rpm does not order %s before %s (vercmp %s)", rpms[i-1], rpms[i], cmp)
		}
	}
}
