package trigger

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunSequence(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := Run([]string{"marker", a, Then, "open-write", b}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{a, b} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("after both actions: %v", err)
		}
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: trigger <action>"},
		{[]string{"fly"}, `unknown action "fly"`},
		{[]string{"marker"}, "usage: marker <path>"},
		{[]string{"marker", filepath.Join(dir, "m"), Then}, `empty action around "then"`},
		{[]string{"storm-open", "/dev/null", "many"}, `storm-open: strconv.Atoi: parsing "many"`},
		{[]string{"marker", filepath.Join(dir, "no", "m")}, "marker: open " + dir + "/no/m: no such file or directory"},
	} {
		err := Run(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%q) = %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

func TestMainExitCode(t *testing.T) {
	if code := Main([]string{"marker", filepath.Join(t.TempDir(), "m")}); code != 0 {
		t.Errorf("Main(marker) = %d, want 0", code)
	}
	if code := Main([]string{"fly"}); code != 2 {
		t.Errorf("Main(unknown action) = %d, want 2", code)
	}
}
