//go:build linux && amd64

package kernels

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

const debianKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

// privateApt runs apt-get and apt-cache against its own sources.list,
// state and cache directories, so the host's apt configuration, lists and
// locks are never touched.
type privateApt struct {
	dir    string
	suites []string
	mu     sync.Mutex
	fresh  bool // lists were updated by this process
}

func newPrivateApt(tb testing.TB, dir, mirror string, suites []string) *privateApt {
	tb.Helper()
	a := &privateApt{dir: dir, suites: suites}
	for _, d := range []string{"etc/apt.conf.d", "etc/preferences.d", "etc/sources.list.d",
		"state/lists/partial", "cache/archives/partial", "debs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	var b strings.Builder
	for _, s := range suites {
		fmt.Fprintf(&b, "deb [arch=amd64 signed-by=%s] %s %s main\n", debianKeyring, mirror, s)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/apt.conf"), []byte(fmt.Sprintf(aptConf, dir)), 0o644); err != nil {
		tb.Fatal(err)
	}
	list := filepath.Join(dir, "etc/sources.list")
	if old, _ := os.ReadFile(list); string(old) != b.String() {
		if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
		// other sources: the lists we have say nothing about them
		os.RemoveAll(filepath.Join(dir, "state/lists"))
		os.MkdirAll(filepath.Join(dir, "state/lists/partial"), 0o755)
	}
	return a
}

// aptConf is read through APT_CONFIG, before anything else: its
// Dir::Etc::Parts keeps the host's apt.conf.d (e.g. a docker-clean that
// disables the package cache) out. Signatures are checked (signed-by in
// sources.list), but not Valid-Until or Date: the build machines' clock
// and their mirror's snapshot disagree, as the host's own apt config
// acknowledges with the same two settings.
const aptConf = `Dir::State "%[1]s/state";
Dir::Cache "%[1]s/cache";
Dir::Cache::pkgcache "pkgcache.bin";
Dir::Cache::srcpkgcache "";
Dir::Etc::main "%[1]s/etc/apt.conf";
Dir::Etc::Parts "%[1]s/etc/apt.conf.d";
Dir::Etc::SourceList "%[1]s/etc/sources.list";
Dir::Etc::SourceParts "%[1]s/etc/sources.list.d";
Dir::Etc::Preferences "%[1]s/etc/preferences";
Dir::Etc::PreferencesParts "%[1]s/etc/preferences.d";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::Check-Valid-Until "false";
Acquire::Check-Date "false";
APT::Sandbox::User "root";
`

func (a *privateApt) run(dir, tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(tool, append([]string{"-q"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "APT_CONFIG="+filepath.Join(a.dir, "etc/apt.conf"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// ensureLists runs apt-get update when the lists are missing (or force).
func (a *privateApt) ensureLists(force bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if force && a.fresh {
		return nil
	}
	if !force {
		m, _ := filepath.Glob(filepath.Join(a.dir, "state/lists/*_Packages*"))
		if len(m) >= len(a.suites) {
			return nil
		}
	}
	if _, err := a.run(a.dir, "apt-get", "update"); err != nil {
		return err
	}
	a.fresh = true
	return os.WriteFile(filepath.Join(a.dir, "state/updated"), nil, 0o644)
}

// kernelPackage is the image package linux-image-amd64 selects in a suite.
type kernelPackage struct {
	Suite   string
	Name    string // linux-image-<abi>
	Version string
	ABI     string // e.g. 6.1.0-50-amd64
}

var imageDep = regexp.MustCompile(`\blinux-image-([0-9][^ ,]*) \(= ([^)]+)\)`)

// resolve finds the kernel linux-image-amd64 pulls in for suite.
func (a *privateApt) resolve(suite string) (kernelPackage, error) {
	out, err := a.run(a.dir, "apt-cache", "madison", "linux-image-amd64")
	if err != nil {
		return kernelPackage{}, err
	}
	var meta string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "|")
		if len(f) == 3 && strings.Contains(f[2], " "+suite+"/main ") {
			meta = strings.TrimSpace(f[1])
			break
		}
	}
	if meta == "" {
		return kernelPackage{}, fmt.Errorf("linux-image-amd64 not found in %s:\n%s", suite, out)
	}
	out, err = a.run(a.dir, "apt-cache", "show", "linux-image-amd64="+meta)
	if err != nil {
		return kernelPackage{}, err
	}
	m := imageDep.FindSubmatch(out)
	if m == nil {
		return kernelPackage{}, fmt.Errorf("linux-image-amd64=%s (%s) depends on no linux-image-<abi>", meta, suite)
	}
	return kernelPackage{Suite: suite, Name: "linux-image-" + string(m[1]), Version: string(m[2]), ABI: string(m[1])}, nil
}

// download fetches name=version into the debs directory and returns the
// .deb path.
func (a *privateApt) download(name, version string) (string, error) {
	dir := filepath.Join(a.dir, "debs")
	if _, err := a.run(dir, "apt-get", "download", name+"="+version); err != nil {
		return "", err
	}
	m, _ := filepath.Glob(filepath.Join(dir, name+"_*.deb"))
	for _, p := range m {
		if strings.HasPrefix(filepath.Base(p), name+"_"+strings.ReplaceAll(version, ":", "%3a")+"_") {
			return p, nil
		}
	}
	return "", fmt.Errorf("apt-get download %s=%s left no .deb in %s", name, version, dir)
}

// hostMirror returns the Debian mirror the host's apt uses (the URI of a
// source ending in /debian), or deb.debian.org.
func hostMirror() string {
	if m := os.Getenv("PODGUARD_DEBIAN_MIRROR"); m != "" {
		return m
	}
	files := []string{"/etc/apt/sources.list"}
	more, _ := filepath.Glob("/etc/apt/sources.list.d/*")
	for _, f := range append(files, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			for _, field := range strings.Fields(line) {
				u := strings.TrimSuffix(field, "/")
				if !strings.HasPrefix(line, "#") && strings.Contains(u, "://") && strings.HasSuffix(u, "/debian") {
					return u
				}
			}
		}
	}
	return "http://deb.debian.org/debian"
}

var errNoVmlinuz = errors.New("no vmlinuz in package")
