package detect

import (
	"fmt"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/events"
)

func foldSample(rule string) events.Event {
	return events.Event{Rule: events.Rule{ID: rule}, Mitigation: events.Outcome{Action: "isolate", Result: events.ResultApplied},
		Container: events.ContainerRef{ID: "0123456789abcdef"}, Count: 1}
}

func TestFolder(t *testing.T) {
	f := newFolder(10 * time.Second)
	t0 := time.Now()
	ev := foldSample("shadow-file-read")
	if !f.admit(ev, t0) {
		t.Fatal("first match must be emitted")
	}
	for i := 1; i <= 4; i++ {
		if f.admit(ev, t0.Add(time.Duration(i)*time.Second)) {
			t.Fatal("repeat within the window emitted")
		}
	}
	other := foldSample("container-drift")
	if !f.admit(other, t0.Add(time.Second)) {
		t.Fatal("another rule is not a repeat")
	}
	if got := f.expired(t0.Add(5 * time.Second)); len(got) != 0 {
		t.Fatalf("window not over yet: %v", got)
	}
	got := f.expired(t0.Add(11 * time.Second))
	if len(got) != 1 || got[0].Count != 4 || !got[0].Folded || got[0].Rule.ID != "shadow-file-read" || got[0].Mitigation.Action != "isolate" {
		t.Fatalf("summary = %+v", got)
	}
	if !f.admit(ev, t0.Add(12*time.Second)) {
		t.Fatal("a match after the window starts a new one")
	}
}

// TestFolderKeepsDistinctDetails: a summary lists what the repeats
// touched that the first event did not, so the real target cannot hide
// among decoys folded into a count.
func TestFolderKeepsDistinctDetails(t *testing.T) {
	f := newFolder(10 * time.Second)
	t0 := time.Now()
	at := func(path string) events.Event {
		ev := foldSample("shadow-file-read")
		ev.Details = map[string]any{"path": path}
		return ev
	}
	f.admit(at("/etc/decoy"), t0)
	for i := 0; i < 50; i++ {
		f.admit(at("/etc/decoy"), t0.Add(time.Millisecond)) // the same as the first: counted only
	}
	f.admit(at("/etc/shadow"), t0.Add(2*time.Millisecond))
	for i := 0; i < 30; i++ {
		f.admit(at(fmt.Sprintf("/etc/decoy-%d", i)), t0.Add(3*time.Millisecond))
	}
	f.admit(at("/etc/decoy"), t0.Add(4*time.Millisecond)) // last
	got := f.expired(t0.Add(11 * time.Second))
	if len(got) != 1 || got[0].Count != 82 {
		t.Fatalf("summary %+v", got)
	}
	d := got[0].Details
	reps, _ := d["repeats"].([]map[string]any)
	if d["repeats_distinct"] != 31 || len(reps) != maxDistinct || reps[0]["path"] != "/etc/shadow" {
		t.Errorf("summary details %v: want 31 distinct repeats, the first %d listed, /etc/shadow first", d, maxDistinct)
	}
}
