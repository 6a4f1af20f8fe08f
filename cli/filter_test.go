package cli

import (
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/events"
)

func TestEventFilter(t *testing.T) {
	now := time.Now()
	ev := events.Event{Time: now.Add(-time.Minute), Rule: events.Rule{ID: "namespace-escape", Technique: "T1611.001"},
		Pod: events.PodRef{Name: "web", Namespace: "shop"}, Mitigation: events.Outcome{Action: "terminate"}}
	for _, c := range []struct {
		f    eventFilter
		want bool
	}{
		{eventFilter{}, true},
		{eventFilter{Pod: "web"}, true},
		{eventFilter{Pod: "shop/web"}, true},
		{eventFilter{Pod: "other/web"}, false},
		{eventFilter{Pod: "shop"}, false},
		{eventFilter{Namespace: "shop"}, true},
		{eventFilter{Namespace: "web"}, false},
		{eventFilter{Rule: "namespace-escape"}, true},
		{eventFilter{Rule: "namespace"}, false},
		{eventFilter{Technique: "T1611.001"}, true},
		{eventFilter{Technique: "T1611"}, true}, // a technique matches its sub-techniques
		{eventFilter{Technique: "T161"}, false}, // not any prefix
		{eventFilter{Technique: "T1611.002"}, false},
		{eventFilter{Action: "terminate"}, true},
		{eventFilter{Action: "log"}, false},
		{eventFilter{Since: now.Add(-time.Hour)}, true},
		{eventFilter{Since: now}, false},
		{eventFilter{Pod: "web", Namespace: "shop", Technique: "T1611", Action: "terminate", Since: now.Add(-time.Hour)}, true},
		{eventFilter{Pod: "web", Namespace: "shop", Technique: "T1611", Action: "isolate"}, false},
	} {
		if got := c.f.match(ev); got != c.want {
			t.Errorf("%+v matches = %v, want %v", c.f, got, c.want)
		}
	}
}
