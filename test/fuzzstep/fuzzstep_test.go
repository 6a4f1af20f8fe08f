package fuzzstep

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// targets is a module of its own with two fuzz targets: one that never
// fails, and one that fails on any input other than its seed, so that
// fuzzing finds a failing input on its first mutation.
const targets = `package fuzzme

import "testing"

func FuzzClean(f *testing.F) {
	f.Add([]byte("seed"))
	f.Fuzz(func(t *testing.T, b []byte) {})
}

func FuzzBroken(f *testing.F) {
	f.Add([]byte("seed"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if string(b) != "seed" {
			t.Fatalf("parser broke on %q", b)
		}
	})
}
`

func goTool(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// module writes the fuzz targets into a fresh module and returns its dir.
func module(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	files := map[string]string{
		"go.mod":       "module fuzzme\n\ngo 1.26\n",
		"fuzz_test.go": targets,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// step runs fuzz.sh in dir with the given targets and returns its output
// and exit code.
func step(tb testing.TB, dir string, specs ...string) (string, int) {
	tb.Helper()
	script, err := filepath.Abs("fuzz.sh")
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("bash", append([]string{script}, specs...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GO="+goTool(tb), "GOFLAGS=", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatalf("run fuzz.sh: %v", err)
	}
	return string(out), code
}

func TestStepPassesWhenNothingIsFound(t *testing.T) {
	dir := module(t)
	out, code := step(t, dir, ".:FuzzClean:2000x")
	if code != 0 {
		t.Fatalf("fuzz.sh exit %d on a target that cannot fail:\n%s", code, out)
	}
	if !strings.Contains(out, "fuzz: . FuzzClean: 2000x passed") {
		t.Errorf("no pass line:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "testdata")); !os.IsNotExist(err) {
		t.Errorf("a clean run wrote testdata (stat: %v)", err)
	}
}

func TestStepFailsOnAFindingAndNamesTheReproducer(t *testing.T) {
	dir := module(t)
	// The clean target runs first: the step must go on to the next target
	// and still fail for the broken one.
	out, code := step(t, dir, ".:FuzzClean:1000x", ".:FuzzBroken:100000x")
	if code == 0 {
		t.Fatalf("fuzz.sh passed although FuzzBroken fails on any new input:\n%s", out)
	}
	m := regexp.MustCompile(`FOUND A FAILING INPUT: \./(testdata/fuzz/FuzzBroken/[0-9a-f]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no reproducer named:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, m[1])); err != nil {
		t.Fatalf("the named reproducer is not there: %v\n%s", err, out)
	}
	// From now on plain `go test` (CI's deterministic gate) replays it.
	replay := exec.Command(goTool(t), "test", "-run", "^FuzzBroken$", ".")
	replay.Dir = dir
	replay.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	rout, err := replay.CombinedOutput()
	if err == nil || !strings.Contains(string(rout), "parser broke") {
		t.Fatalf("go test did not fail on the written reproducer (err %v):\n%s", err, rout)
	}
}

func TestStepRejectsABadTarget(t *testing.T) {
	out, code := step(t, module(t), "./probes:FuzzDecode")
	if code != 2 || !strings.Contains(out, "want PKG:TARGET:BUDGET") {
		t.Fatalf("exit %d, want 2 and a usage hint:\n%s", code, out)
	}
}
