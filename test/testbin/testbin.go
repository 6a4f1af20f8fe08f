package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Import paths of the commands tests build.
const (
	Podguard = "github.com/podguard/podguard"
	Trigger  = "github.com/podguard/podguard/test/trigger/cmd/trigger"
	Selftest = "github.com/podguard/podguard/test/kernels/selftest"
)

// Option changes how a binary is built.
type Option func(*config)

type config struct {
	ldflags  string
	trimpath bool
	goarch   string
}

// LDFlags passes -ldflags (e.g. "-s -w -X main.version=1.2.3").
func LDFlags(flags string) Option { return func(c *config) { c.ldflags = flags } }

// Trimpath builds with -trimpath, as `make build` does.
func Trimpath() Option { return func(c *config) { c.trimpath = true } }

// Arch builds for another GOARCH. A binary for an architecture other than
// the host's is named with the architecture appended ("trigger386").
func Arch(goarch string) Option { return func(c *config) { c.goarch = goarch } }

// Build returns the path of pkg (an import path) built with opts, building
// it on first use in this process; tb fails when the build does.
func Build(tb testing.TB, pkg string, opts ...Option) string {
	tb.Helper()
	bin, err := Binary(pkg, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// Binary is Build for callers without a testing.TB (TestMain, the bench
// harness).
func Binary(pkg string, opts ...Option) (string, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	key := fmt.Sprintf("%s %+v", pkg, c)
	cache.mu.Lock()
	b, ok := cache.bins[key]
	if !ok {
		b = &build{}
		if cache.bins == nil {
			cache.bins = map[string]*build{}
		}
		cache.bins[key] = b
	}
	n := len(cache.bins)
	cache.mu.Unlock()
	b.once.Do(func() { b.path, b.err = c.build(pkg, n) })
	return b.path, b.err
}

// Cleanup removes every binary built so far; the next Build builds again.
// TestMain calls it after m.Run.
func Cleanup() {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	if cache.dir != "" {
		os.RemoveAll(cache.dir)
	}
	cache.dir, cache.bins = "", nil
}

type build struct {
	once sync.Once
	path string
	err  error
}

var cache struct {
	mu   sync.Mutex
	dir  string
	bins map[string]*build // by package and configuration
}

// dir returns the process's build directory, made on first use.
func dir() (string, error) {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	if cache.dir == "" {
		d, err := os.MkdirTemp("", "podguard-testbin-")
		if err != nil {
			return "", err
		}
		cache.dir = d
	}
	return cache.dir, nil
}

// build runs go build for pkg into the n-th configuration's directory.
func (c config) build(pkg string, n int) (string, error) {
	root, err := dir()
	if err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	name := path.Base(pkg)
	if c.goarch != "" && c.goarch != runtime.GOARCH {
		name += c.goarch
	}
	out := filepath.Join(root, fmt.Sprint(n), name)
	args := []string{"build", "-o", out}
	if c.trimpath {
		args = append(args, "-trimpath")
	}
	if c.ldflags != "" {
		args = append(args, "-ldflags", c.ldflags)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if c.goarch != "" {
		cmd.Env = append(cmd.Env, "GOARCH="+c.goarch)
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, msg)
	}
	return out, nil
}
