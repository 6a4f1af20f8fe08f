package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/events"
)

// TestEventsCommandOnFile runs `podguard events` filters over a recorded
// events file, as an operator reading a node's history without a daemon.
func TestEventsCommandOnFile(t *testing.T) {
	now := time.Now().UTC()
	rec := []events.Event{
		{Time: now.Add(-2 * time.Hour), Rule: events.Rule{ID: "shadow-file-read", Technique: "T1003.008"}, Pod: events.PodRef{Name: "web", Namespace: "shop"}, Mitigation: events.Outcome{Action: "isolate", Result: "applied"}, Count: 1},
		{Time: now.Add(-5 * time.Minute), Rule: events.Rule{ID: "namespace-escape", Technique: "T1611"}, Pod: events.PodRef{Name: "web", Namespace: "shop"}, Mitigation: events.Outcome{Action: "terminate", Result: "applied"}, Count: 1},
		{Time: now.Add(-4 * time.Minute), Rule: events.Rule{ID: "mount-in-container", Technique: "T1611"}, Pod: events.PodRef{Name: "db", Namespace: "data"}, Mitigation: events.Outcome{Action: "terminate", Result: "failed", Error: "boom"}, Count: 1},
		{Time: now.Add(-3 * time.Minute), Rule: events.Rule{ID: "setuid-bit-set", Technique: "T1548.001"}, Pod: events.PodRef{Name: "db", Namespace: "data"}, Mitigation: events.Outcome{Action: "log", Result: "applied"}, Count: 3, Folded: true},
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	f, _ := os.Create(path)
	for _, ev := range rec {
		json.NewEncoder(f).Encode(ev)
	}
	f.Close()
	rules := func(args ...string) string {
		t.Helper()
		out, stderr, code := podguard(t, append([]string{"events", "--file", path, "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("events %v: code %d %s", args, code, stderr)
		}
		var ids []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l == "" {
				continue
			}
			var ev events.Event
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("bad JSON line %q", l)
			}
			ids = append(ids, ev.Rule.ID)
		}
		return strings.Join(ids, ",")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "shadow-file-read,namespace-escape,mount-in-container,setuid-bit-set"},
		{[]string{"--pod", "web"}, "shadow-file-read,namespace-escape"},
		{[]string{"--pod", "data/db"}, "mount-in-container,setuid-bit-set"},
		{[]string{"--namespace", "shop"}, "shadow-file-read,namespace-escape"},
		{[]string{"--rule", "mount-in-container"}, "mount-in-container"},
		{[]string{"--technique", "T1611"}, "namespace-escape,mount-in-container"},
		{[]string{"--technique", "T1548"}, "setuid-bit-set"},
		{[]string{"--action", "terminate"}, "namespace-escape,mount-in-container"},
		{[]string{"--since", "10m"}, "namespace-escape,mount-in-container,setuid-bit-set"},
		{[]string{"--since", "10m", "--namespace", "data", "--action", "log"}, "setuid-bit-set"},
	} {
		if got := rules(c.args...); got != c.want {
			t.Errorf("events %v = %s, want %s", c.args, got, c.want)
		}
	}
	table, _, _ := podguard(t, "events", "--file", path, "--namespace", "data")
	for _, want := range []string{"TIME", "data/db", "mount-in-container", "T1611", "terminate (failed): boom", "[x3 more]"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if _, stderr, code := podguard(t, "events", "--file", path, "--action", "block"); code == 0 || !strings.Contains(stderr, "use log, isolate or terminate") {
		t.Errorf("bad --action: code %d %q", code, stderr)
	}
}
