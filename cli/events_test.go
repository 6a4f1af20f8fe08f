package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

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

// writeEvents writes evs as JSON lines, with extra lines appended as is.
func writeEvents(tb testing.TB, evs []events.Event, extra string) string {
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
	file := writeEvents(t, recorded(time.Now().UTC()), "")
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
	file := writeEvents(t, evs, "")
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
		{evs[2].Time.Local().Format(timeLayout), "data/db", "mount-in-container", "T1611", "terminate (failed): boom", "mount -t proc proc /mnt/" + strings.Repeat("x", 35) + "…"},
		{evs[3].Time.Local().Format(timeLayout), "data/db", "setuid-bit-set", "T1548.001", "log (applied)", "chmod u+s /tmp/sh [x3 more]"},
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
	file := writeEvents(t, evs[:1], "{truncated\n")
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

// TestEventsFromDaemon: history comes from the events file (the daemon
// keeps only the latest events in memory), the daemon adds what the file
// lacks (its disk was full), each event once, in time order; the events
// file alone is read when no daemon answers, and the user is told.
func TestEventsFromDaemon(t *testing.T) {
	evs := recorded(time.Now().UTC())
	file := writeEvents(t, evs[:3], "")
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.EventsPath, func(w http.ResponseWriter, r *http.Request) {
		enc := json.NewEncoder(w)
		for _, ev := range evs[1:] { // the latest three: two are in the file too
			enc.Encode(ev)
		}
	})
	cfg := writeConfig(t, fakeDaemon(t, mux), file, "")
	if got := ruleIDs(t, "--config", cfg, "--action", "terminate"); got != "namespace-escape,mount-in-container" {
		t.Errorf("events from the daemon = %s", got)
	}
	if got := ruleIDs(t, "--config", cfg, "--since", "24h"); got != "shadow-file-read,namespace-escape,mount-in-container,setuid-bit-set" {
		t.Errorf("--since 24h with the daemon running = %s, want the file's history and the daemon's event, once each", got)
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

// runInBackground runs the CLI until stop is called, which returns the
// exit code; its output can be read meanwhile.
func runInBackground(args ...string) (stdout, stderr *syncBuffer, stop func() int) {
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		app := &App{Version: testVersion, Stdout: stdout, Stderr: stderr}
		done <- app.Run(ctx, args)
	}()
	return stdout, stderr, func() int { cancel(); return <-done }
}

// TestEventsFollowFile: with --follow, events appended to the file are
// printed as they come, a line written in two parts once whole, until the
// command is interrupted.
func TestEventsFollowFile(t *testing.T) {
	evs := recorded(time.Now().UTC())
	file := writeEvents(t, evs[:1], "")
	stdout, stderr, stop := runInBackground("events", "--follow", "--file", file)
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
	if code := stop(); code != 0 || stderr.String() != "" {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if n := strings.Count(stdout.String(), "\n"); n != 3 {
		t.Errorf("want a header and 2 events:\n%s", stdout.String())
	}
}

// TestEventsHostileStrings: what a process chose (argv, a file name) is
// escaped in the table, so it cannot forge rows or send escape sequences
// to the operator's terminal; JSON stays exact.
func TestEventsHostileStrings(t *testing.T) {
	ev := recorded(time.Now().UTC())[0]
	ev.Process.Args = []string{"cat", "/etc/shadow\n12:00:00.000  shop/web  benign-rule", "\x1b]0;pwned\x07\x1b[2J", "\xff\xfe", "\u202eevil", `a\x1b`}
	file := writeEvents(t, []events.Event{ev}, "")
	stdout, stderr, code := runCLI(t, "events", "--file", file)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if n := strings.Count(stdout, "\n"); n != 2 {
		t.Errorf("a newline in argv forged a row: %d lines:\n%s", n, stdout)
	}
	for _, r := range stdout {
		if r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e') {
			t.Fatalf("control character %U reached the terminal: %q", r, stdout)
		}
	}
	if !utf8.ValidString(stdout) {
		t.Errorf("invalid UTF-8 printed: %q", stdout)
	}
	row := strings.Split(stdout, "\n")[1]
	if want := `cat /etc/shadow\n12:00:00.000  shop/web  benign-rule \x1b]0…`; !strings.Contains(row, want) {
		t.Errorf("row %q does not show the escaped, trimmed argv %q", row, want)
	}
	stdout, _, _ = runCLI(t, "events", "--json", "--file", file)
	var back events.Event
	if err := json.Unmarshal([]byte(stdout), &back); err != nil || !reflect.DeepEqual(back.Process.Args[:3], ev.Process.Args[:3]) {
		t.Errorf("JSON changed argv: %q (%v)", stdout, err)
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain /etc/shadow": "plain /etc/shadow",
		"tab\there":         `tab\there`,
		"\x1b[31mred":       `\x1b[31mred`,
		"bell\x07":          `bell\x07`,
		"del\x7f":           `del\x7f`,
		"c1\u009b31m":       `c1\u009b31m`,
		"bidi\u202e":        `bidi\u202e`,
		"bad\xffutf8":       `bad\xffutf8`,
		`back\slash`:        `back\\slash`,
		"héllo 日本":          "héllo 日本",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
	if got := trim("日本語テキスト", 4); got != "日本語…" {
		t.Errorf("trim cut a rune: %q", got)
	}
}

// TestEventsRotatedHistory: history includes the rotated files, oldest
// first, so --since reaches back past the last rotation.
func TestEventsRotatedHistory(t *testing.T) {
	evs := recorded(time.Now().UTC())
	file := writeEvents(t, evs[3:], "")
	for i, ev := range []events.Event{evs[2], evs[1], evs[0]} { // file.1 is the newest rotated
		line, _ := json.Marshal(ev)
		if err := os.WriteFile(file+"."+strconv.Itoa(i+1), append(line, '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := ruleIDs(t, "--file", file); got != "shadow-file-read,namespace-escape,mount-in-container,setuid-bit-set" {
		t.Errorf("history across rotated files = %s", got)
	}
	if got := ruleIDs(t, "--file", file, "--since", "10m", "--until", "3m30s"); got != "namespace-escape,mount-in-container" {
		t.Errorf("--since 10m --until 3m30s = %s", got)
	}
}

// TestEventsStdin: --file - reads events from standard input.
func TestEventsStdin(t *testing.T) {
	evs := recorded(time.Now().UTC())
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = old; r.Close() })
	go func() {
		for _, ev := range evs[:2] {
			line, _ := json.Marshal(ev)
			w.Write(append(line, '\n'))
		}
		line, _ := json.Marshal(evs[2])
		w.Write(line) // the last line without its newline
		w.Close()
	}()
	if got := ruleIDs(t, "--file", "-"); got != "shadow-file-read,namespace-escape,mount-in-container" {
		t.Errorf("events from stdin = %s", got)
	}
}

func TestEventsFilterFlags(t *testing.T) {
	evs := recorded(time.Now().UTC())
	evs[0].Node, evs[1].Node = "n1", "n2"
	evs[0].Ruleset, evs[1].Ruleset = "strict", "audit"
	file := writeEvents(t, evs, "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rule", "shadow-file-read", "--rule", "setuid-bit-set"}, "shadow-file-read,setuid-bit-set"},
		{[]string{"--rule", "shadow-file-read,setuid-bit-set"}, "shadow-file-read,setuid-bit-set"},
		{[]string{"--node", "n2"}, "namespace-escape"},
		{[]string{"--ruleset", "strict"}, "shadow-file-read"},
		{[]string{"--pod", "web", "--action", "isolate,terminate"}, "shadow-file-read,namespace-escape"},
	} {
		if got := ruleIDs(t, append([]string{"--file", file}, c.args...)...); got != c.want {
			t.Errorf("events %v = %s, want %s", c.args, got, c.want)
		}
	}
	for _, bad := range [][]string{{"--since", "-5m"}, {"--until", "soon"}, {"--since", "1m", "--until", "1h"}, {"--action", "log,block"}} {
		_, stderr, code := runCLI(t, append([]string{"events", "--file", file}, bad...)...)
		if code == 0 || stderr == "" {
			t.Errorf("events %v: exit %d, stderr %q; want refused with a reason", bad, code, stderr)
		}
	}
}

// TestEventsFollowRotation: --follow goes on with the new file when the
// daemon rotates the events file, after the rest of the old one.
func TestEventsFollowRotation(t *testing.T) {
	evs := recorded(time.Now().UTC())
	file := writeEvents(t, evs[:1], "")
	stdout, stderr, stop := runInBackground("events", "--json", "--follow", "--file", file)
	waitLines := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); strings.Count(stdout.String(), "\n") < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d events not printed; stdout:\n%s\nstderr: %s", n, stdout.String(), stderr.String())
			}
		}
	}
	waitLines(1)
	appendEvent := func(path string, ev events.Event) {
		fh, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		line, _ := json.Marshal(ev)
		fh.Write(append(line, '\n'))
		fh.Close()
	}
	// As the daemon rotates: one more line to the old file, rename, new file.
	appendEvent(file, evs[1])
	if err := os.Rename(file, file+".1"); err != nil {
		t.Fatal(err)
	}
	appendEvent(file, evs[2])
	waitLines(3)
	appendEvent(file, evs[3])
	waitLines(4)
	if code := stop(); code != 0 || stderr.String() != "" {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var ev events.Event
		json.Unmarshal([]byte(l), &ev)
		ids = append(ids, ev.Rule.ID)
	}
	if got := strings.Join(ids, ","); got != "shadow-file-read,namespace-escape,mount-in-container,setuid-bit-set" {
		t.Errorf("followed across rotation: %s", got)
	}
}
