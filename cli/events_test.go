package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/events"
)

// recorded are a node's events: two pods, four rules, every mitigation.
func recorded(now time.Time) []events.Event {
	return []events.Event{
		{Time: now.Add(-2 * time.Hour), Rule: events.Rule{ID: "shadow-file-read", Technique: "T1003.008"}, Pod: events.PodRef{Name: "web", Namespace: "shop"},
			Mitigation: events.Outcome{Action: "isolate", Result: "applied"}, Process: events.Process{Exe: "/bin/cat", Args: []string{"cat", "/etc/shadow"}}, Count: 1},
		{Time: now.Add(-5 * time.Minute), Rule: events.Rule{ID: "namespace-escape", Technique: "T1611"}, Pod: events.PodRef{Name: "web", Namespace: "shop"},
			Mitigation: events.Outcome{Action: "terminate", Result: "applied"}, Process: events.Process{Exe: "/usr/bin/nsenter", KilledInKernel: true}, Count: 1},
		{Time: now.Add(-4 * time.Minute), Rule: events.Rule{ID: "mount-in-container", Technique: "T1611"}, Pod: events.PodRef{Name: "db", Namespace: "data"},
			Mitigation: events.Outcome{Action: "terminate", Result: "failed", Error: "boom"}, Process: events.Process{Args: []string{"mount", "-t", "proc", "proc", "/mnt/" + strings.Repeat("x", 60)}}, Count: 1},
		{Time: now.Add(-3 * time.Minute), Rule: events.Rule{ID: "setuid-bit-set", Technique: "T1548.001"}, Pod: events.PodRef{Name: "db", Namespace: "data"},
			Mitigation: events.Outcome{Action: "log", Result: "applied"}, Process: events.Process{Args: []string{"chmod", "u+s", "/tmp/sh"}}, Count: 3, Folded: true},
	}
}

// eventsFile writes evs as JSON lines, with extra lines appended as is.
func eventsFile(tb testing.TB, evs []events.Event, extra string) string {
	tb.Helper()
	var b strings.Builder
	for _, ev := range evs {
		line, _ := json.Marshal(ev)
		b.Write(append(line, '\n'))
	}
	b.WriteString(extra)
	path := filepath.Join(tb.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// ruleIDs runs `podguard events --json args...` and returns the rule ids
// of the events printed, in order.
func ruleIDs(tb testing.TB, args ...string) string {
	tb.Helper()
	stdout, stderr, code := runCLI(tb, append([]string{"events", "--json"}, args...)...)
	if code != 0 || stderr != "" {
		tb.Fatalf("events %v: exit %d, stderr %q", args, code, stderr)
	}
	var ids []string
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if l == "" {
			continue
		}
		var ev events.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			tb.Fatalf("events %v: not a JSON event: %q", args, l)
		}
		ids = append(ids, ev.Rule.ID)
	}
	return strings.Join(ids, ",")
}

// TestEventsFileFilters: each filter flag reaches the filter (its cases
// are in filter_test.go), and the flags combine.
func TestEventsFileFilters(t *testing.T) {
	file := eventsFile(t, recorded(time.Now().UTC()), "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--pod", "shop/web"}, "shadow-file-read,namespace-escape"},
		{[]string{"--namespace", "data", "--technique", "T1548"}, "setuid-bit-set"},
		{[]string{"--rule", "shadow-file-read", "--action", "isolate"}, "shadow-file-read"},
		{[]string{"--since", "1h", "--action", "terminate"}, "namespace-escape,mount-in-container"},
		{[]string{"--since", "1h", "--rule", "shadow-file-read"}, ""},
	} {
		if got := ruleIDs(t, append([]string{"--file", file}, c.args...)...); got != c.want {
			t.Errorf("events %v = %s, want %s", c.args, got, c.want)
		}
	}
	if got := ruleIDs(t, "--file", file); got != "shadow-file-read,namespace-escape,mount-in-container,setuid-bit-set" {
		t.Errorf("events with no filter = %s, want all in file order", got)
	}
}

func TestEventsTable(t *testing.T) {
	evs := recorded(time.Now().UTC())
	file := eventsFile(t, evs, "")
	stdout, stderr, code := runCLI(t, "events", "--file", file, "--namespace", "data")
	if code != 0 || stderr != "" {
		t.Fatalf("events: exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 events:\n%s", stdout)
	}
	head, headStarts := columns(lines[0])
	if strings.Join(head, "|") != "TIME|POD|RULE|TECHNIQUE|MITIGATION|PROCESS" {
		t.Fatalf("header %q", lines[0])
	}
	for i, want := range [][]string{
		{evs[2].Time.Local().Format("15:04:05.000"), "data/db", "mount-in-container", "T1611", "terminate (failed): boom", "mount -t proc proc /mnt/" + strings.Repeat("x", 35) + "…"},
		{evs[3].Time.Local().Format("15:04:05.000"), "data/db", "setuid-bit-set", "T1548.001", "log (applied)", "chmod u+s /tmp/sh [x3 more]"},
	} {
		cols, starts := columns(lines[i+1])
		if strings.Join(cols, "|") != strings.Join(want, "|") || !reflect.DeepEqual(starts, headStarts) {
			t.Errorf("row %d = %q, want columns %q under the header", i, lines[i+1], want)
		}
	}
	stdout, _, _ = runCLI(t, "events", "--file", file, "--rule", "namespace-escape")
	if !strings.Contains(stdout, "/usr/bin/nsenter [killed in kernel]") {
		t.Errorf("a process without args shows its exe, and a kill in the kernel:\n%s", stdout)
	}
	if stdout, _, _ = runCLI(t, "events", "--file", file, "--rule", "none"); stdout != "" {
		t.Errorf("no events, no header: %q", stdout)
	}
}

// TestEventsFileBadLine: a line that is not an event is reported with its
// line number and skipped.
func TestEventsFileBadLine(t *testing.T) {
	evs := recorded(time.Now().UTC())
	file := eventsFile(t, evs[:1], "{truncated\n")
	stdout, stderr, code := runCLI(t, "events", "--json", "--file", file)
	if code != 0 || strings.Count(stdout, "\n") != 1 || !strings.HasPrefix(stderr, file+":2: not an event: ") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestEventsBadFlags(t *testing.T) {
	_, stderr, code := runCLI(t, "events", "--action", "block")
	if code != 1 || stderr != "podguard events: --action \"block\": use log, isolate or terminate\n" {
		t.Errorf("--action block: exit %d, stderr %q", code, stderr)
	}
	missing := filepath.Join(t.TempDir(), "absent.jsonl")
	_, stderr, code = runCLI(t, "events", "--file", missing)
	if code != 1 || stderr != "podguard events: read events: open "+missing+": no such file or directory\n" {
		t.Errorf("--file absent: exit %d, stderr %q", code, stderr)
	}
}

// TestEventsFromDaemon: the running daemon's events come first; the
// events file is the fallback when no daemon answers, and the user is told.
func TestEventsFromDaemon(t *testing.T) {
	evs := recorded(time.Now().UTC())
	file := eventsFile(t, evs[:1], "")
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.EventsPath, func(w http.ResponseWriter, r *http.Request) {
		enc := json.NewEncoder(w)
		for _, ev := range evs[1:] {
			enc.Encode(ev)
		}
	})
	cfg := writeConfig(t, fakeDaemon(t, mux), file, "")
	if got := ruleIDs(t, "--config", cfg, "--action", "terminate"); got != "namespace-escape,mount-in-container" {
		t.Errorf("events from the daemon = %s", got)
	}

	sock := filepath.Join(t.TempDir(), "podguard.sock")
	cfg = writeConfig(t, sock, file, "")
	stdout, stderr, code := runCLI(t, "events", "--config", cfg)
	if code != 0 || stderr != "podguard is not running; reading "+file+"\n" || !strings.Contains(stdout, "shadow-file-read") {
		t.Errorf("events with no daemon: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// syncBuffer is a bytes.Buffer safe to read while a command writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestEventsFollowFile: with --follow, events appended to the file are
// printed as they come, a line written in two parts once whole, until the
// command is interrupted.
func TestEventsFollowFile(t *testing.T) {
	evs := recorded(time.Now().UTC())
	file := eventsFile(t, evs[:1], "")
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		app := &App{Version: testVersion, Stdout: &stdout, Stderr: &stderr}
		done <- app.Run(ctx, []string{"events", "--follow", "--file", file})
	}()
	waitFor := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stdout.String(), what); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s not printed; stdout:\n%s\nstderr: %s", what, stdout.String(), stderr.String())
			}
		}
	}
	waitFor("shadow-file-read")
	fh, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	line, _ := json.Marshal(evs[1])
	fh.Write(line[:20])
	time.Sleep(300 * time.Millisecond) // the reader sees the partial line
	fh.Write(append(line[20:], '\n'))
	waitFor("namespace-escape")
	cancel()
	if code := <-done; code != 0 || stderr.String() != "" {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if n := strings.Count(stdout.String(), "\n"); n != 3 {
		t.Errorf("want a header and 2 events:\n%s", stdout.String())
	}
}
