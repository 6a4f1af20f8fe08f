package detect

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/probes"
)

var php = map[string]string{"app": "php"}

func shadow(m catalog.Mitigation) map[string]catalog.Mitigation {
	return map[string]catalog.Mitigation{"shadow-file-read": m}
}

// TestRepeatsFoldIntoOneSummary: the first match is reported at once, its
// repeats within the fold window as one summary with their count.
func TestRepeatsFoldIntoOneSummary(t *testing.T) {
	r := newRig(t, true, ruleset("php", php, shadow(catalog.Log)))
	r.pod("web", 11, 100, php)
	for range 5 {
		r.readShadow(11, 100)
	}
	evs := r.out.events()
	if len(evs) != 1 || evs[0].Count != 1 || evs[0].Folded || evs[0].Rule.ID != "shadow-file-read" || evs[0].Pod.Name != "web" ||
		evs[0].Node != "node-1" || evs[0].Mitigation.Action != "log" || evs[0].Details["path"] != "/etc/shadow" {
		t.Fatalf("before the window ends, want one event for the first match: %+v", evs)
	}
	r.clock.advance(foldWindow + time.Second)
	r.waitFor("the summary of the repeats", func() bool { return len(r.out.events()) == 2 })
	sum := r.out.events()[1]
	if sum.Count != 4 || !sum.Folded || sum.Rule.ID != "shadow-file-read" || sum.Mitigation.Action != "log" {
		t.Fatalf("summary = %+v, want 4 folded repeats", sum)
	}
	st := r.d.Stats()
	if st.Matches != 5 || st.ByRule[RuleAction{"shadow-file-read", catalog.Log}] != 5 {
		t.Fatalf("stats %+v, want 5 matches of shadow-file-read", st)
	}
}

// TestStrongestMitigationWins: a rule that several rulesets selecting the
// pod enable gets the strongest mitigation among them.
func TestStrongestMitigationWins(t *testing.T) {
	r := newRig(t, true,
		ruleset("audit", nil, shadow(catalog.Log)),
		ruleset("php-kill", php, shadow(catalog.Terminate)),
		ruleset("php-cut", php, shadow(catalog.Isolate)),
		ruleset("nginx-kill", map[string]string{"app": "nginx"}, shadow(catalog.Terminate)))
	r.pod("web", 11, 100, php)
	r.pod("other", 12, 200, map[string]string{"app": "go"})
	r.readShadow(11, 100)
	r.readShadow(12, 200)
	r.waitFor("the terminate event", func() bool { return len(r.out.events()) == 2 })
	byPod := map[string]events.Event{}
	for _, ev := range r.out.events() {
		byPod[ev.Pod.Name] = ev
	}
	if ev := byPod["web"]; ev.Mitigation.Action != "terminate" || ev.Mitigation.Result != events.ResultApplied || ev.Ruleset != "php-kill" {
		t.Errorf("web: %+v, want terminate by php-kill", ev)
	}
	if ev := byPod["other"]; ev.Mitigation.Action != "log" || ev.Ruleset != "audit" {
		t.Errorf("other: %+v, want log by audit", ev)
	}
	if got := r.mit.appliedActions(); !slices.Equal(got, []catalog.Mitigation{catalog.Terminate}) {
		t.Errorf("mitigator applied %v, want one terminate", got)
	}
}

// TestMitigationOncePerIncident: repeats do not apply a mitigation again
// while it is in place; once it is lifted, the next match is a new
// incident, mitigated and reported on its own.
func TestMitigationOncePerIncident(t *testing.T) {
	r := newRig(t, true, ruleset("php", php, shadow(catalog.Isolate)))
	id := r.pod("web", 11, 100, php)
	r.readShadow(11, 100)
	r.waitFor("the isolate event", func() bool { return len(r.out.events()) == 1 })
	if ev := r.out.events()[0]; ev.Mitigation.Action != "isolate" || ev.Mitigation.Result != events.ResultApplied || ev.Mitigation.Detail != "done" || ev.Mitigation.AppliedAt.IsZero() {
		t.Fatalf("first event %+v", ev)
	}
	for range 3 {
		r.readShadow(11, 100)
	}
	r.waitFor("the mitigator to see the repeats", func() bool { return r.mit.calls.Load() == 4 })
	if n := len(r.out.events()); n != 1 || len(r.mit.appliedActions()) != 1 {
		t.Fatalf("repeats while isolated: %d events, %d mitigations; want 1 and 1", n, len(r.mit.appliedActions()))
	}

	r.mit.release(id.Pod.UID)
	r.readShadow(11, 100)
	r.waitFor("the new incident's event", func() bool { return len(r.out.events()) == 2 })
	if ev := r.out.events()[1]; ev.Count != 1 || ev.Folded || ev.Mitigation.Result != events.ResultApplied || ev.Mitigation.Detail != "done" {
		t.Fatalf("new incident %+v", ev)
	}
	if got := len(r.mit.appliedActions()); got != 2 {
		t.Fatalf("%d mitigations applied, want 2", got)
	}
	r.clock.advance(foldWindow + time.Second)
	r.waitFor("the summary", func() bool { return len(r.out.events()) == 3 })
	if sum := r.out.events()[2]; sum.Count != 3 || !sum.Folded || sum.Mitigation.Action != "isolate" {
		t.Fatalf("summary %+v, want the 3 repeats that found isolation in place", sum)
	}
	if st := r.d.Stats(); st.ByResult[ActionResult{catalog.Isolate, events.ResultApplied}] != 2 || st.Matches != 5 {
		t.Fatalf("stats %+v, want 2 isolations applied for 5 matches", st)
	}
}

// TestMitigationQueueFull: when the mitigation queue is full, the first
// match of an incident is reported as a failed mitigation, and every
// drop is counted.
func TestMitigationQueueFull(t *testing.T) {
	r := newRig(t, false, ruleset("php", php, shadow(catalog.Isolate))) // nothing takes jobs
	r.pod("web", 11, 100, php)
	r.pod("db", 12, 200, php)
	for range mitigationQueue + 1 {
		r.readShadow(11, 100) // the last repeat finds the queue full
	}
	r.readShadow(12, 200) // a new incident finds the queue full
	evs := r.out.events()
	if len(evs) != 1 || evs[0].Pod.Name != "db" || evs[0].Mitigation.Action != "isolate" || evs[0].Mitigation.Result != events.ResultFailed ||
		!strings.Contains(evs[0].Mitigation.Error, "mitigation queue full") {
		t.Fatalf("events %+v, want one failed isolation of db", evs)
	}
	if st := r.d.Stats(); st.MitigationDrops != 2 || st.Matches != mitigationQueue+2 {
		t.Fatalf("stats: %d mitigations dropped, %d matches; want 2 and %d", st.MitigationDrops, st.Matches, mitigationQueue+2)
	}
}

// TestWatchedSet: the kernel watches a container for the kinds its
// rules need, arms in-kernel kills for terminate rules unless dry_run,
// and stops watching it when it is gone.
func TestWatchedSet(t *testing.T) {
	r := newRig(t, true, ruleset("php", php, map[string]catalog.Mitigation{"container-drift": catalog.Terminate, "shadow-file-read": catalog.Log}))
	web := r.pod("web", 11, 100, php)
	r.pod("other", 12, 200, map[string]string{"app": "go"})
	f, ok := r.k.filter(11)
	if !ok || !f.kinds.Has(probes.KindOpen) || !f.kinds.Has(probes.KindExec) || f.kill != probes.KillDrift {
		t.Fatalf("web's cgroup: %+v (watched %v), want open and exec, drift killed in the kernel", f, ok)
	}
	if _, ok := r.k.filter(12); ok {
		t.Fatal("a pod no ruleset selects is watched")
	}
	r.d.SetSettings(Settings{Node: "node-1", DryRun: true})
	if f, _ := r.k.filter(11); f.kill != 0 {
		t.Fatalf("dry run armed kills %v", f.kill)
	}
	r.d.WorkloadsChanged(nil, []workload.Identity{web})
	if _, ok := r.k.filter(11); ok {
		t.Fatal("a container that is gone is still watched")
	}
	if st := r.d.Stats().Probes; st.State != Attached || st.Watched != 0 || st.Kernel == nil {
		t.Fatalf("probe stats %+v", st)
	}
	r.d.Stop()
	if st := r.d.Stats().Probes; st.State != Detached || !r.k.closed {
		t.Fatalf("after Stop: %+v, closed %v", st, r.k.closed)
	}
}
