package pkgbuild

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/podguard/podguard/daemon/config"
)

const brDir = "packaging/bottlerocket"

// TestBottlerocketHostContainerEntrypoint runs the host container's
// entrypoint as host-ctr would, in a mount namespace of its own (and a
// temporary directory standing in for the container's /), with a stand-in
// podguard that records what it was started with and what it sees.
func TestBottlerocketHostContainerEntrypoint(t *testing.T) {
	needRoot(t)
	need(t, "unshare", "mount")
	for _, userData := range []bool{false, true} {
		croot := t.TempDir()
		persist := t.TempDir()
		report := filepath.Join(t.TempDir(), "report")
		fake := filepath.Join(t.TempDir(), "podguard")
		script := "#!/bin/sh\n" +
			"echo \"args: $*\" >" + report + "\n" +
			"cat /proc/self/mountinfo >>" + report + "\n" +
			"echo state >" + croot + "/var/lib/podguard/probe\n"
		if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(persist, "rules.d"), 0o755); err != nil {
			t.Fatal(err)
		}
		if userData {
			if err := os.WriteFile(filepath.Join(persist, "user-data"), []byte("cluster = \"prod-eu\"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", filepath.Join(repo, brDir, "host-container/entrypoint.sh"))
		// This test process stands in for the host's PID 1.
		cmd.Env = append(os.Environ(), "PODGUARD_HOST_PID="+strconv.Itoa(os.Getpid()), "PODGUARD_PERSIST="+persist, "PODGUARD_CONTAINER_ROOT="+croot, "PODGUARD_BIN="+fake)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("entrypoint: %v\n%s", err, out)
		}
		got := readFile(t, report)
		wantArgs := "args: run"
		if userData {
			wantArgs += " --config " + persist + "/user-data"
		}
		if first, _, _ := strings.Cut(got, "\n"); first != wantArgs {
			t.Errorf("podguard started as %q, want %q", first, wantArgs)
		}
		mounts := []string{"/var/lib/podguard", "/var/log/podguard", "/etc/podguard/rules.d"}
		for _, p := range []string{"/sys/fs/bpf", "/sys/fs/cgroup", "/run/containerd"} {
			if _, err := os.Stat(p); err == nil {
				mounts = append(mounts, p)
			}
		}
		for _, m := range mounts {
			if !strings.Contains(got, " "+croot+m+" ") {
				t.Errorf("podguard does not see %s mounted in the container", m)
			}
		}
		if readFile(t, filepath.Join(persist, "state/probe")) != "state\n" {
			t.Error("/var/lib/podguard is not the persistent storage's state directory")
		}
		for d, mode := range map[string]os.FileMode{"state": 0o700, "log": 0o750} {
			if fi, err := os.Stat(filepath.Join(persist, d)); err != nil || fi.Mode().Perm() != mode {
				t.Errorf("persistent %s directory: %v mode %v, want %v", d, err, fi.Mode().Perm(), mode)
			}
		}
	}
}

func TestBottlerocketHostContainerFiles(t *testing.T) {
	cf := readFile(t, filepath.Join(repo, brDir, "host-container/Containerfile"))
	copyRE := regexp.MustCompile(`(?m)^COPY (\S+) (\S+)$`)
	dests := map[string]bool{}
	for _, m := range copyRE.FindAllStringSubmatch(cf, -1) {
		src := m[1]
		if src == "podguard" {
			continue // the binary `make build` writes
		}
		if _, err := os.Stat(filepath.Join(repo, src)); err != nil {
			t.Errorf("Containerfile copies %s, which the repository does not have", src)
		}
		dests[m[2]] = true
	}
	ep := regexp.MustCompile(`(?m)^ENTRYPOINT \["([^"]+)"\]$`).FindStringSubmatch(cf)
	if ep == nil || !dests[ep[1]] {
		t.Errorf("Containerfile's ENTRYPOINT %v is not a file it copies", ep)
	}

	var ud struct {
		Settings struct {
			HostContainers map[string]struct {
				Enabled      bool   `toml:"enabled"`
				Superpowered bool   `toml:"superpowered"`
				Source       string `toml:"source"`
			} `toml:"host-containers"`
		} `toml:"settings"`
	}
	udText := readFile(t, filepath.Join(repo, brDir, "host-container/user-data.toml"))
	md, err := toml.Decode(udText, &ud)
	if err != nil {
		t.Fatalf("user-data.toml: %v", err)
	}
	if len(md.Undecoded()) > 0 {
		t.Errorf("user-data.toml has keys this test does not know: %v", md.Undecoded())
	}
	hc, ok := ud.Settings.HostContainers["podguard"]
	if !ok || !hc.Enabled || !hc.Superpowered || hc.Source == "" {
		t.Errorf("user-data.toml: settings.host-containers.podguard = %+v, want enabled, superpowered, a source", hc)
	}
	// The commented example user-data decodes to a config podguard loads.
	m := regexp.MustCompile(`# user-data = "([^"]+)"`).FindStringSubmatch(udText)
	if m == nil {
		t.Fatal("user-data.toml has no example user-data")
	}
	cfg, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if c, err := config.Parse("user-data", cfg); err != nil || c.Cluster == "" {
		t.Errorf("the example user-data is not a podguard config: %v", err)
	}
}

func TestBottlerocketVariantPackage(t *testing.T) {
	dir := filepath.Join(repo, brDir, "variant/packages/podguard")
	var cargo map[string]any
	if _, err := toml.DecodeFile(filepath.Join(dir, "Cargo.toml"), &cargo); err != nil {
		t.Fatalf("Cargo.toml: %v", err)
	}
	spec := readFile(t, filepath.Join(dir, "podguard.spec"))
	// Every source of the spec is in the package directory, or is one of
	// the repository files the README says to copy there.
	fromRepo := map[string]string{
		"podguard.service": "systemd/podguard.service",
		"config.toml":      "packaging/config.toml",
		"default.toml":     "rules.d/default.toml",
	}
	for _, m := range regexp.MustCompile(`(?m)^Source(\d+): (\S+)$`).FindAllStringSubmatch(spec, -1) {
		if m[1] == "0" || m[1] == "1" {
			continue // the source archive and its bundled modules
		}
		if r, ok := fromRepo[m[2]]; ok {
			if _, err := os.Stat(filepath.Join(repo, r)); err != nil {
				t.Errorf("Source%s %s: %v", m[1], m[2], err)
			}
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, m[2])); err != nil {
			t.Errorf("Source%s %s is not in %s", m[1], m[2], dir)
		}
	}
	// The directories get the modes the packages give them.
	tmpfiles := readFile(t, filepath.Join(dir, "podguard-tmpfiles.conf"))
	for _, want := range []string{"d /var/lib/podguard 0700 root root -", "d /var/log/podguard 0750 root root -", "C /etc/podguard - - - -"} {
		if !strings.Contains(tmpfiles, "\n"+want+"\n") {
			t.Errorf("podguard-tmpfiles.conf lacks %q", want)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		// The drop-in applied to the unit still verifies.
		unitDir := t.TempDir()
		unit := strings.Replace(readFile(t, filepath.Join(repo, "systemd/podguard.service")), "ExecStart=/usr/bin/podguard ", "ExecStart="+testBin+" ", 1)
		if err := os.WriteFile(filepath.Join(unitDir, "podguard.service"), []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(unitDir, "podguard.service.d"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(unitDir, "podguard.service.d/10-bottlerocket.conf"), []byte(readFile(t, filepath.Join(dir, "podguard-bottlerocket.conf"))), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("systemd-analyze", "verify", "--man=no", filepath.Join(unitDir, "podguard.service"))
		cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+unitDir+":")
		out, err := cmd.CombinedOutput()
		var msgs []string
		for _, l := range strings.Split(string(out), "\n") {
			if l != "" && !strings.Contains(l, "kubelet.service") && !strings.Contains(l, "containerd.service") {
				msgs = append(msgs, l)
			}
		}
		if err != nil || len(msgs) > 0 {
			t.Errorf("unit with the Bottlerocket drop-in: %v\n%s", err, strings.Join(msgs, "\n"))
		}
	}
}
