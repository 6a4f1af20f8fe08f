package cgrouptest

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestCgroup: a command started with Command runs in the cgroup, and
// Remove removes the cgroup even with a process still in it.
func TestCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates cgroups")
	}
	cg, err := Make("podguard-cgrouptest-")
	if err != nil {
		if errors.Is(err, ErrNoCgroup2) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	root, _ := Root()
	out, err := cg.Command("/bin/cat", "/proc/self/cgroup").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "0::/" + strings.TrimPrefix(cg.Dir, root+"/")
	if !strings.Contains(string(out), want+"\n") {
		t.Errorf("/proc/self/cgroup of the command:\n%s\nwant a line %q", out, want)
	}
	sleeper := cg.Command("/bin/sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	if err := cg.Remove(); err != nil { // needs cgroup.kill (Linux 5.14+)
		t.Fatal(err)
	}
	if _, err := os.Stat(cg.Dir); !os.IsNotExist(err) {
		t.Errorf("%s after Remove: %v, want gone", cg.Dir, err)
	}
}
