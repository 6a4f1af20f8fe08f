package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const testVersion = "1.2.3-test"

// runCLI runs `podguard args...` in process and returns what it wrote to
// stdout and stderr and its exit code.
func runCLI(tb testing.TB, args ...string) (stdout, stderr string, code int) {
	tb.Helper()
	var out, errOut bytes.Buffer
	app := &App{Version: testVersion, Rules: fstest.MapFS{}, Stdout: &out, Stderr: &errOut}
	code = app.Run(context.Background(), args)
	return out.String(), errOut.String(), code
}

// writeConfig writes a config file in a temporary directory: the API
// socket and events file given, the rest appended verbatim.
func writeConfig(tb testing.TB, socket, eventsFile, extra string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.toml")
	cfg := fmt.Sprintf("%s\n[api]\nsocket = %q\n[events]\nfile = %q\n", extra, socket, eventsFile)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// fakeDaemon serves mux on a Unix socket in a temporary directory, as the
// daemon serves its API, and returns the socket's path.
func fakeDaemon(tb testing.TB, mux *http.ServeMux) string {
	tb.Helper()
	sock := filepath.Join(tb.TempDir(), "podguard.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: time.Second}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return sock
}

func serveJSON(v any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(v) }
}

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{{nil, 2}, {[]string{"help"}, 0}, {[]string{"-h"}, 0}, {[]string{"--help"}, 0}} {
		stdout, stderr, code := runCLI(t, c.args...)
		if code != c.code || stdout != "" {
			t.Errorf("podguard %v: exit %d, stdout %q; want exit %d, nothing on stdout", c.args, code, stdout, c.code)
		}
		if !strings.HasPrefix(stderr, "podguard: runtime security for Kubernetes nodes\n\nUsage: podguard <command> [--config PATH] [flags]\n\nCommands:\n") ||
			!strings.HasSuffix(stderr, "\nRun `podguard <command> --help` for a command's flags.\n") {
			t.Errorf("podguard %v: usage is\n%s", c.args, stderr)
		}
		// Each command on its line with the first line of its help.
		for _, want := range []string{
			"  run       Run the daemon: attach probes, load rulesets, watch them, mitigate.\n",
			"  validate  Check ruleset files or directories (default: the configured rules directory).\n",
			"  rules     List the managed rule catalog.\n",
			"  status    Ask the running daemon", "  events    Show detection events", "  release   Lift a pod's network isolation",
			"  kernel    Show which kernel features", "  version   Print podguard's version.\n",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("podguard %v: usage lacks %q:\n%s", c.args, want, stderr)
			}
		}
		if strings.Contains(stderr, "Exit 0 when all are valid") {
			t.Errorf("usage shows more than the first line of validate's help:\n%s", stderr)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	stdout, stderr, code := runCLI(t, "frobnicate", "--json")
	_, usage, _ := runCLI(t)
	if code != 2 || stdout != "" || stderr != "podguard: unknown command \"frobnicate\"\n\n"+usage {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

func TestCommandHelpAndBadFlag(t *testing.T) {
	_, stderr, code := runCLI(t, "validate", "--help")
	want := "Usage: podguard validate [--config PATH] [PATH...]\n\nCheck ruleset files or directories (default: the configured rules directory).\n" +
		"Exit 0 when all are valid; otherwise print FILE:LINE: message per problem and exit 1.\n\nFlags:\n  -config string\n"
	if code != 0 || !strings.HasPrefix(stderr, want) {
		t.Errorf("validate --help: exit %d\n%s", code, stderr)
	}
	_, stderr, code = runCLI(t, "events", "-h")
	for _, flag := range []string{"-action", "-file", "-follow", "-json", "-namespace", "-pod", "-rule", "-since", "-technique"} {
		if code != 0 || !strings.Contains(stderr, "  "+flag+" ") && !strings.Contains(stderr, "  "+flag+"\n") {
			t.Errorf("events -h: exit %d, lacks %s:\n%s", code, flag, stderr)
		}
	}
	_, stderr, code = runCLI(t, "rules", "--yaml")
	if code != 2 || !strings.HasPrefix(stderr, "flag provided but not defined: -yaml\nUsage: podguard rules [--config PATH] \n") {
		t.Errorf("rules --yaml: exit %d\n%s", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	stdout, stderr, code := runCLI(t, "version")
	if code != 0 || stdout != "podguard "+testVersion+"\n" || stderr != "" {
		t.Fatalf("version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestRunRejectsArguments(t *testing.T) {
	_, stderr, code := runCLI(t, "run", "now")
	if code != 1 || stderr != "podguard run: unexpected arguments [now]\n" {
		t.Fatalf("run now: exit %d, stderr %q", code, stderr)
	}
}
