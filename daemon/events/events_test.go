package events

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func sample(rule string) Event {
	return Event{Time: time.Now().UTC(), Node: "n1", Rule: Rule{ID: rule, Name: "Password hashes read", Tactic: "TA0006", Technique: "T1003.008"},
		Ruleset: "php", Mitigation: Outcome{Action: "isolate", Result: "applied"},
		Pod:       PodRef{Name: "web", Namespace: "shop", UID: "u1", Labels: map[string]string{"app": "php"}},
		Container: ContainerRef{ID: "0123456789abcdef", Name: "php", Image: "php:8"},
		Process:   Process{PID: 42, Exe: "/bin/cat", Args: []string{"cat", "/etc/shadow"}}, Kind: "open",
		Details: map[string]any{"path": "/etc/shadow"}, Count: 1}
}

func TestWriterFileRotationAndLoss(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ev", "events.jsonl")
	w := NewWriter(Config{File: path, MaxBytes: 2000, Keep: 2}, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	for i := 0; i < 20; i++ {
		w.Emit(sample("shadow-file-read"))
	}
	cancel()
	<-done
	var lines int
	for _, p := range []string{path, path + ".1", path + ".2"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if fi, _ := os.Stat(p); fi.Size() > 2000 {
			t.Errorf("%s is %d bytes, over the 2000-byte limit", p, fi.Size())
		}
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var ev Event
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("bad line in %s: %v", p, err)
			}
			lines++
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Error("more rotated files kept than Keep")
	}
	st := w.Stats()
	if st.Written != 20 || lines == 0 || lines > 20 {
		t.Fatalf("written %d, lines on disk %d", st.Written, lines)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("events file mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestWriterUnwritableFile: an events file that cannot be written loses
// events for that output only, counted; stdout and memory still get them.
func TestWriterUnwritableFile(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-dir")
	os.WriteFile(blocker, nil, 0o600)
	var stdout strings.Builder
	w := NewWriter(Config{File: filepath.Join(blocker, "events.jsonl"), Stdout: &stdout}, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	w.Emit(sample("a"))
	w.Emit(sample("b"))
	cancel()
	<-done
	st := w.Stats()
	if st.FileWriteLost != 2 || st.Written != 2 || strings.Count(stdout.String(), "\n") != 2 || len(w.Recent()) != 2 {
		t.Fatalf("stats %+v, stdout lines %d, recent %d", st, strings.Count(stdout.String(), "\n"), len(w.Recent()))
	}
}

func TestWriterQueueNeverBlocks(t *testing.T) {
	w := NewWriter(Config{Queue: 4}, quiet) // no Run: nothing drains the queue
	done := make(chan struct{})
	go func() {
		for i := 0; i < 100; i++ {
			w.Emit(sample("x"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Emit blocked on a full queue")
	}
	if st := w.Stats(); st.QueueDropped != 96 || st.Emitted != 100 {
		t.Fatalf("stats %+v", st)
	}
}

func TestWebhookFalcoFormatAndRetry(t *testing.T) {
	var calls atomic.Int32
	got := make(chan FalcoEvent, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var fe FalcoEvent
		if err := json.NewDecoder(r.Body).Decode(&fe); err != nil {
			t.Errorf("decode: %v", err)
		}
		got <- fe
	}))
	defer srv.Close()
	wh := NewWebhook(WebhookConfig{URL: srv.URL, Format: FormatFalco}, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go wh.Run(ctx)
	wh.Offer(sample("shadow-file-read"))
	select {
	case fe := <-got:
		if fe.Priority != "Error" || fe.Rule != "Password hashes read" || fe.Source != "syscall" || fe.Hostname != "n1" ||
			fe.OutputFields["k8s.pod.name"] != "web" || fe.OutputFields["k8s.ns.name"] != "shop" || fe.OutputFields["container.id"] != "0123456789ab" ||
			fe.OutputFields["k8s.pod.label.app"] != "php" || !strings.Contains(strings.Join(fe.Tags, ","), "T1003.008") {
			t.Fatalf("falco event = %+v", fe)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("event not posted after retries")
	}
	deadline := time.Now().Add(5 * time.Second)
	for wh.Stats().Sent != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // the response is on its way back
	}
	if st := wh.Stats(); st.Sent != 1 || st.Failed != 0 || calls.Load() != 3 {
		t.Fatalf("stats %+v calls %d", st, calls.Load())
	}
}

// TestWebhookDeadEndpoint: a hanging endpoint never blocks the caller;
// what does not fit in the queue is dropped and counted.
func TestWebhookDeadEndpoint(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer srv.Close()
	defer close(hang)
	wh := NewWebhook(WebhookConfig{URL: srv.URL, Queue: 2, Timeout: 30 * time.Second}, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go wh.Run(ctx)
	start := time.Now()
	for i := 0; i < 50; i++ {
		wh.Offer(sample("x"))
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("Offer waited on a dead endpoint")
	}
	if d := wh.Stats().QueueDropped; d < 47 {
		t.Fatalf("dropped %d, want at least 47 of 50 (queue 2, one in flight)", d)
	}
}

// TestRecentPerPodCap: a pod flooding events ages out only its own
// events in memory; other pods' evidence stays for `podguard events`.
func TestRecentPerPodCap(t *testing.T) {
	w := NewWriter(Config{Recent: 20, RecentPerPod: 5}, quiet)
	quietPod := sample("shadow-file-read")
	quietPod.Pod.UID = "quiet"
	for i := 0; i < 3; i++ {
		w.remember(quietPod)
	}
	for i := 0; i < 500; i++ {
		ev := sample("events-flood")
		ev.Pod.UID = "noisy"
		w.remember(ev)
	}
	got := map[string]int{}
	for _, ev := range w.Recent() {
		got[ev.Pod.UID]++
	}
	if got["quiet"] != 3 || got["noisy"] != 5 {
		t.Errorf("kept %v; want the quiet pod's 3 and the noisy pod's latest 5", got)
	}
	// Many pods: memory stays bounded, the largest share gives way first.
	for i := 0; i < 30; i++ {
		ev := sample("x")
		ev.Pod.UID = string(rune('a' + i%26))
		w.remember(ev)
	}
	if n := len(w.Recent()); n != 20 {
		t.Errorf("%d events in memory, cap 20", n)
	}
	got = map[string]int{}
	for _, ev := range w.Recent() {
		got[ev.Pod.UID]++
	}
	if got["quiet"] == 0 {
		t.Errorf("the quiet pod's evidence was pushed out before the noisy pod's: %v", got)
	}
}
