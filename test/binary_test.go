package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/test/node"
	"github.com/podguard/podguard/test/testbin"
)

// podguardBin is the binary under test, built once by TestMain.
var podguardBin string

func TestMain(m *testing.M) {
	var err error
	if podguardBin, err = testbin.Binary(testbin.Podguard); err != nil {
		fmt.Fprintln(os.Stderr, err)
		testbin.Cleanup()
		os.Exit(1)
	}
	code := node.RunTests(m)
	testbin.Cleanup()
	os.Exit(code)
}

// instance is a podguard daemon started by a test with its own config,
// rules directory, state directory and API socket.
type instance struct {
	dir, config, rules string
	cmd                *exec.Cmd
	log                *bytes.Buffer
	// cgroup, when set, is a cgroup directory podguard runs in (as the
	// unit's slice would put it), joined before it starts.
	cgroup string
}

// newInstance writes a config (extra is appended verbatim) and returns an
// instance that is not started yet.
func newInstance(tb testing.TB, extra string) *instance {
	tb.Helper()
	dir := tb.TempDir()
	in := &instance{dir: dir, config: filepath.Join(dir, "config.toml"), rules: filepath.Join(dir, "rules.d")}
	if err := os.Mkdir(in.rules, 0o755); err != nil {
		tb.Fatal(err)
	}
	in.writeConfig(tb, extra)
	return in
}

func (in *instance) writeConfig(tb testing.TB, extra string) {
	tb.Helper()
	cfg := fmt.Sprintf("node = \"test-node\"\nrules_dir = %q\nstate_dir = %q\n%s\n[api]\nsocket = %q\n[events]\nfile = %q\n[metrics]\nlisten = \"127.0.0.1:0\"\n",
		in.rules, filepath.Join(in.dir, "state"), extra, filepath.Join(in.dir, "run", "podguard.sock"), filepath.Join(in.dir, "events.jsonl"))
	writeFile(tb, in.config, cfg)
}

func (in *instance) start(tb testing.TB) {
	tb.Helper()
	in.log = &bytes.Buffer{}
	in.cmd = exec.Command(podguardBin, "run", "--config", in.config)
	if in.cgroup != "" {
		in.cmd = exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$0" run --config "$2"`, podguardBin, in.cgroup, in.config)
	}
	in.cmd.Stderr = in.log
	if err := in.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { in.stop(tb) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := in.statusErr(); err == nil {
			return
		}
		if time.Now().After(deadline) || in.cmd.ProcessState != nil {
			in.cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump for the log
			time.Sleep(500 * time.Millisecond)
			tb.Fatalf("podguard did not answer status; log:\n%s", in.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (in *instance) stop(tb testing.TB) {
	if in.cmd == nil || in.cmd.Process == nil || in.cmd.ProcessState != nil {
		return
	}
	in.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- in.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			tb.Errorf("podguard exited with %v after SIGTERM; log:\n%s", err, in.log)
		}
	case <-time.After(10 * time.Second):
		in.cmd.Process.Kill()
		tb.Errorf("podguard did not stop within 10s of SIGTERM; log:\n%s", in.log)
	}
}

// podguard runs the CLI and returns stdout, stderr and the exit code.
func podguard(tb testing.TB, args ...string) (string, string, int) {
	tb.Helper()
	cmd := exec.Command(podguardBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func (in *instance) statusErr() (api.Status, error) {
	var st api.Status
	cmd := exec.Command(podguardBin, "status", "--json", "--config", in.config)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return st, fmt.Errorf("%v: %s", err, stderr.String())
	}
	return st, json.Unmarshal(out, &st)
}

// waitStatus polls `podguard status --json` until ok accepts it or the
// deadline passes, and returns the last status seen.
func (in *instance) waitStatus(tb testing.TB, within time.Duration, what string, ok func(api.Status) bool) api.Status {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := in.statusErr()
		if err == nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			js, _ := json.MarshalIndent(st, "", "  ")
			tb.Fatalf("%s: not seen within %v (err %v); last status:\n%s\nlog:\n%s", what, within, err, js, in.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// writeByRename saves a file the way vim and many editors do: write a
// temporary file beside it, then rename it over the original.
func writeByRename(tb testing.TB, path, content string) {
	tb.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swp")
	writeFile(tb, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}

func fileState(st api.Status, base string) (state, name string, lastGood bool, problems string) {
	for _, f := range st.Rules.Files {
		if filepath.Base(f.File) == base {
			return f.State, f.Name, f.LastGood, f.Problems.Error()
		}
	}
	return "absent", "", false, ""
}

func activeSet(st api.Status) string { return strings.Join(st.Rules.Active, ",") }
