package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// TestBuildOnce: the second Build of a configuration returns the first
// binary without building again; another configuration is another binary.
func TestBuildOnce(t *testing.T) {
	bin := Build(t, Trigger)
	if filepath.Base(bin) != "trigger" {
		t.Errorf("binary %s, want it named trigger", bin)
	}
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if again := Build(t, Trigger); again != bin {
		t.Errorf("second Build = %s, want %s", again, bin)
	}
	if st2, err := os.Stat(bin); err != nil || !st2.ModTime().Equal(st.ModTime()) {
		t.Errorf("second Build rewrote the binary (%v)", err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	if out, err := exec.Command(bin, "marker", marker).CombinedOutput(); err != nil {
		t.Fatalf("run %s: %v\n%s", bin, err, out)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the built trigger did not run its action: %v", err)
	}
	if other := Build(t, Trigger, LDFlags("-s -w")); other == bin {
		t.Errorf("a stripped build shares the path %s of the default build", bin)
	}
}

func TestBuildError(t *testing.T) {
	if _, err := Binary("github.com/podguard/podguard/test/no-such-package"); err == nil {
		t.Error("Binary of a missing package succeeded")
	}
}
