package cli

import (
	"strings"
	"time"

	"github.com/podguard/podguard/daemon/events"
)

// eventFilter selects events for `podguard events`. Zero fields match all.
type eventFilter struct {
	Pod       string // pod name or namespace/name
	Namespace string
	Rule      string // rule id
	Technique string // technique id; T1611 also matches T1611.x
	Action    string // log | isolate | terminate
	Since     time.Time
}

// match reports whether ev passes the filter.
func (f eventFilter) match(ev events.Event) bool {
	switch {
	case f.Pod != "" && f.Pod != ev.Pod.Name && f.Pod != ev.Pod.Namespace+"/"+ev.Pod.Name:
		return false
	case f.Namespace != "" && f.Namespace != ev.Pod.Namespace:
		return false
	case f.Rule != "" && f.Rule != ev.Rule.ID:
		return false
	case f.Technique != "" && ev.Rule.Technique != f.Technique && !strings.HasPrefix(ev.Rule.Technique, f.Technique+"."):
		return false
	case f.Action != "" && f.Action != ev.Mitigation.Action:
		return false
	case !f.Since.IsZero() && ev.Time.Before(f.Since):
		return false
	}
	return true
}
