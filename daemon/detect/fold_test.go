package detect

import (
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
