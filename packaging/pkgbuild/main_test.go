package pkgbuild

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podguard/podguard/test/testbin"
)

// binVersion is stamped into the test binary (main.version).
const binVersion = "1.2.3"

var (
	repo    string // the repository root
	testBin string // podguard built for the tests
	pkgs    Result // packages of version binVersion
)

// TestMain builds the real podguard binary once and packages it.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if repo, err = filepath.Abs("../.."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "pgpkg-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	defer testbin.Cleanup()
	testBin, err = testbin.Binary(testbin.Podguard, testbin.Trimpath(), testbin.LDFlags("-s -w -X main.version="+binVersion))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if pkgs, err = Build(Options{Binary: testBin, Version: binVersion, Repo: repo, Out: filepath.Join(tmp, "dist")}); err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		return 1
	}
	return m.Run()
}

// need skips the test when a command is missing.
func need(tb testing.TB, cmds ...string) {
	tb.Helper()
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			tb.Skipf("%s not installed (Debian package: dpkg / rpm / systemd)", c)
		}
	}
}

func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: installs packages into a throwaway root with real owners")
	}
}

// sh runs a command and returns its standard output; it fails the test
// with the output when the command fails.
func sh(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// tarEntry is what a tar stream says about one path.
type tarEntry struct {
	mode         os.FileMode
	dir          bool
	uname, gname string
	uid, gid     int
	data         []byte
}

// readTar indexes a (possibly gzipped) tar stream by path without "./".
func readTar(tb testing.TB, r io.Reader, gzipped bool) map[string]tarEntry {
	tb.Helper()
	if gzipped {
		gz, err := gzip.NewReader(r)
		if err != nil {
			tb.Fatal(err)
		}
		r = gz
	}
	tr := tar.NewReader(r)
	m := map[string]tarEntry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return m
		}
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatal(err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
		m[name] = tarEntry{mode: os.FileMode(h.Mode).Perm(), dir: h.Typeflag == tar.TypeDir, uname: h.Uname, gname: h.Gname, uid: h.Uid, gid: h.Gid, data: data}
	}
}

// want is one installed path every package must have.
type want struct {
	path string
	mode os.FileMode
	dir  bool
	src  string // repository file with the same bytes; "" for none
}

// installed lists what every package installs, unit path aside.
func installed(unitPath string) []want {
	return []want{
		{path: "usr/bin/podguard", mode: 0o755, src: testBin},
		{path: unitPath, mode: 0o644, src: filepath.Join(repo, "systemd/podguard.service")},
		{path: "etc/podguard", mode: 0o755, dir: true},
		{path: "etc/podguard/config.toml", mode: 0o644, src: filepath.Join(repo, "packaging/config.toml")},
		{path: "etc/podguard/rules.d", mode: 0o755, dir: true},
		{path: "etc/podguard/rules.d/default.toml", mode: 0o644, src: filepath.Join(repo, "rules.d/default.toml")},
		{path: "var/lib/podguard", mode: 0o700, dir: true},
		{path: "var/log/podguard", mode: 0o750, dir: true},
	}
}

// shippedRules are the repository's rulesets as installed paths.
func shippedRules(tb testing.TB) []string {
	tb.Helper()
	rs, err := filepath.Glob(filepath.Join(repo, "rules.d", "*.toml"))
	if err != nil || len(rs) == 0 {
		tb.Fatalf("no rulesets in %s/rules.d", repo)
	}
	var out []string
	for _, r := range rs {
		out = append(out, "/etc/podguard/rules.d/"+filepath.Base(r))
	}
	return out
}

// checkTree asserts the wanted entries of a package's file tree.
func checkTree(t *testing.T, tree map[string]tarEntry, wants []want) {
	t.Helper()
	for _, w := range wants {
		e, ok := tree[w.path]
		if !ok {
			t.Errorf("%s: not in the package", w.path)
			continue
		}
		if e.dir != w.dir || e.mode != w.mode {
			t.Errorf("%s: dir=%v mode %04o, want dir=%v mode %04o", w.path, e.dir, e.mode, w.dir, w.mode)
		}
		if e.uname != "root" || e.gname != "root" || e.uid != 0 || e.gid != 0 {
			t.Errorf("%s: owner %s(%d):%s(%d), want root:root", w.path, e.uname, e.uid, e.gname, e.gid)
		}
		if w.src != "" {
			src, err := os.ReadFile(w.src)
			if err != nil {
				t.Fatal(err)
			}
			if string(src) != string(e.data) {
				t.Errorf("%s: content differs from %s", w.path, w.src)
			}
		}
	}
}
