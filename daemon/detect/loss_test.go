package detect

import (
	"testing"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

// TestLossBecomesADetection: the reader's events_lost record for a
// container is an events-lost event of its pod, with the counts by kind
// and reason, mitigated by the on_loss of the pod's rulesets (which arms
// the in-kernel kill of the flooding task for terminate).
func TestLossBecomesADetection(t *testing.T) {
	r := newRig(t, true,
		ruleset("audit", nil, map[string]catalog.Mitigation{catalog.EventsLost: catalog.Log}),
		ruleset("strict", php, map[string]catalog.Mitigation{catalog.EventsLost: catalog.Terminate}))
	r.pod("web", 11, 100, php)
	r.pod("other", 12, 200, map[string]string{"app": "go"})
	r.k.mu.Lock()
	web, other := r.k.watched[11], r.k.watched[12]
	r.k.mu.Unlock()
	if web.kill&probes.KillEventsLost == 0 || other.kill&probes.KillEventsLost != 0 {
		t.Errorf("kills: web %v, other %v; want events_lost only for web (on_loss terminate)", web.kill, other.kill)
	}
	r.emit(&probes.Record{Kind: probes.KindEventsLost, CgroupID: 11, Lost: []probes.Loss{
		{Kind: probes.KindOpen, Reason: probes.LossRateLimited, Count: 2500},
		{Kind: probes.KindExec, Reason: probes.LossRingFull, Count: 3}}})
	r.waitFor("the events-lost event", func() bool { return len(r.out.events()) == 1 })
	ev := r.out.events()[0]
	if ev.Rule.ID != catalog.EventsLost || ev.Rule.Technique != "T1562.006" || ev.Rule.Tactic != "TA0005" ||
		ev.Pod.Name != "web" || ev.Mitigation.Action != "terminate" || ev.Ruleset != "strict" {
		t.Fatalf("event = %+v", ev)
	}
	if ev.Details["lost"] != uint64(2503) {
		t.Errorf("lost = %v, want 2503", ev.Details["lost"])
	}
	byKind, _ := ev.Details["by_kind"].([]map[string]any)
	if len(byKind) != 2 || byKind[0]["kind"] != "open" || byKind[0]["reason"] != "rate_limited" || byKind[0]["count"] != uint64(2500) {
		t.Errorf("by_kind = %v", ev.Details["by_kind"])
	}
}

// TestTruncatedIsReported: an event whose strings the kernel cut carries
// truncated in its details.
func TestTruncatedIsReported(t *testing.T) {
	r := newRig(t, false, ruleset("php", php, shadow(catalog.Log)))
	r.pod("web", 11, 100, php)
	r.emit(&probes.Record{Kind: probes.KindOpen, Flags: probes.FlagTruncated, PID: 100, TGID: 100, PPID: 1, CgroupID: 11,
		Comm: "sh", Path: "/etc/shadow", RawPath: "/etc/shadow"})
	r.waitFor("the shadow event", func() bool { return len(r.out.events()) == 1 })
	if d := r.out.events()[0].Details; d["truncated"] != true || d["path"] != "/etc/shadow" {
		t.Errorf("details %v, want truncated and the path", d)
	}
}
