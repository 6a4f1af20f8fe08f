package engine

import (
	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

// lossRules make blindness an event: the kernel lost events of a pod
// (its flood beyond its fair share of the event buffer, or a full
// buffer). A ruleset chooses what that means for its pods with on_loss,
// not with [[rule]] (see rulesets).
var lossRules = []definition{
	{
		Rule: catalog.Rule{
			ID:          catalog.EventsLost,
			Name:        "Kernel events of the pod were lost",
			Description: "The kernel dropped events of this pod: it went beyond its fair share of the event buffer while the buffer was filling (rate_limited), or the buffer was full (ring_full). Whatever the pod did meanwhile was not judged; a flood of cheap events is how an attacker hides the one that matters. Reported at most once per interval per container, with the counts by event kind and reason. Its mitigation is the rulesets' on_loss.",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1562.006",
			Events:     []string{"events_lost"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			if len(c.Ev.Lost) == 0 {
				return nil, false
			}
			var total uint64
			byKind := make([]map[string]any, 0, len(c.Ev.Lost))
			for _, l := range c.Ev.Lost {
				total += l.Count
				byKind = append(byKind, map[string]any{"kind": l.Kind.String(), "reason": l.Reason.String(), "count": l.Count})
			}
			return Details{"lost": total, "by_kind": byKind}, true
		},
		// the flooding task is killed at its next event beyond the share
		// (under pressure) when on_loss is terminate
		kill: probes.KillEventsLost,
	},
}
