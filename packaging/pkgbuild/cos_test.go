package pkgbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/podguard/podguard/daemon/config"
)

// cosBinDir is where the COS recipe puts the binary: writable, executable
// and stateful on COS (/var and /home are noexec, / is read-only).
const cosBinDir = "/var/lib/google/podguard"

type cloudConfig struct {
	WriteFiles []struct {
		Path        string `yaml:"path"`
		Permissions string `yaml:"permissions"`
		Owner       string `yaml:"owner"`
		Content     string `yaml:"content"`
	} `yaml:"write_files"`
	RunCmd []string `yaml:"runcmd"`
}

func cosConfig(t *testing.T) (cloudConfig, map[string]string) {
	t.Helper()
	data := readFile(t, filepath.Join(repo, "packaging/cos/cloud-init.yaml"))
	if !strings.HasPrefix(data, "#cloud-config\n") {
		t.Fatal("cloud-init.yaml does not start with #cloud-config: cloud-init would ignore it")
	}
	var cc cloudConfig
	dec := yaml.NewDecoder(strings.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cc); err != nil {
		t.Fatalf("cloud-init.yaml: %v", err)
	}
	files := map[string]string{}
	for _, f := range cc.WriteFiles {
		if f.Owner != "root" || (f.Permissions != "0644" && f.Permissions != "0755") {
			t.Errorf("%s: owner %q permissions %q", f.Path, f.Owner, f.Permissions)
		}
		files[f.Path] = f.Content
	}
	return cc, files
}

func TestCOSCloudConfig(t *testing.T) {
	cc, files := cosConfig(t)

	unit, ok := files["/etc/systemd/system/podguard.service"]
	if !ok {
		t.Fatal("cloud-init.yaml writes no /etc/systemd/system/podguard.service")
	}
	want := strings.Replace(readFile(t, filepath.Join(repo, "systemd/podguard.service")),
		"ExecStart=/usr/bin/podguard run", "ExecStart="+cosBinDir+"/podguard run", 1)
	if unit != want {
		t.Error("the COS unit is not systemd/podguard.service with ExecStart in " + cosBinDir + ": copy the unit again")
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		verifyUnit(t, strings.Replace(unit, cosBinDir+"/podguard", testBin, 1))
	}

	if _, err := config.Parse("/etc/podguard/config.toml", []byte(files["/etc/podguard/config.toml"])); err != nil {
		t.Errorf("the COS config.toml does not load: %v", err)
	}

	fetch := files["/etc/podguard/fetch-podguard.sh"]
	if out, err := exec.Command("bash", "-n", "-c", fetch).CombinedOutput(); err != nil {
		t.Errorf("fetch-podguard.sh: %v %s", err, out)
	}
	if !strings.Contains(fetch, "dir=${PODGUARD_DIR:-"+cosBinDir+"}") {
		t.Errorf("fetch-podguard.sh does not install into %s", cosBinDir)
	}

	wantCmds := []string{"/etc/podguard/fetch-podguard.sh", "systemctl daemon-reload", "systemctl start podguard.service"}
	if strings.Join(cc.RunCmd, "\n") != strings.Join(wantCmds, "\n") {
		t.Errorf("runcmd = %q, want %q", cc.RunCmd, wantCmds)
	}
}

// TestCOSFetch runs the recipe's fetch script against the real tarball
// (file:// instead of HTTPS, a temp dir instead of /var/lib/google).
func TestCOSFetch(t *testing.T) {
	need(t, "bash", "curl", "sha256sum", "tar")
	_, files := cosConfig(t)
	script := filepath.Join(t.TempDir(), "fetch-podguard.sh")
	if err := os.WriteFile(script, []byte(files["/etc/podguard/fetch-podguard.sh"]), 0o755); err != nil {
		t.Fatal(err)
	}
	tarball, err := os.ReadFile(pkgs.Tar)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(tarball)
	dir := filepath.Join(t.TempDir(), "google/podguard")
	url := "file://" + pkgs.Tar
	fetch := func(sha string) error {
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), "PODGUARD_URL="+url, "PODGUARD_SHA256="+sha, "PODGUARD_DIR="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("fetch-podguard.sh: %s", out)
		}
		return err
	}

	if err := fetch("REPLACE_WITH_THE_TARBALL_SHA256"); err == nil {
		t.Error("fetch-podguard.sh ran with the placeholder checksum")
	}
	if err := fetch(strings.Repeat("0", 64)); err == nil {
		t.Error("fetch-podguard.sh accepted a tarball with the wrong checksum")
	}
	if _, err := os.Stat(filepath.Join(dir, "podguard")); err == nil {
		t.Error("a tarball with the wrong checksum was installed")
	}
	if err := fetch(hex.EncodeToString(sum[:])); err != nil {
		t.Fatalf("fetch-podguard.sh: %v", err)
	}
	if got := strings.TrimSpace(sh(t, filepath.Join(dir, "podguard"), "version")); got != "podguard "+binVersion {
		t.Errorf("fetched binary says %q", got)
	}
	// At the next boot the same checksum does not download again (the
	// URL is gone now).
	url = "file://" + filepath.Join(t.TempDir(), "gone.tar.gz")
	if err := fetch(hex.EncodeToString(sum[:])); err != nil {
		t.Errorf("fetch-podguard.sh with the installed checksum: %v", err)
	}
}
