package test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/events"
)

// blindingRules: the flooding pods read /etc/shadow in a loop (each read
// passes the open prefilter and reaches the rules: the cheapest flood
// that costs podguard the most); one logs its loss, one terminates on it.
// The victim logs shadow reads.
var blindingRules = map[string]string{
	"flood.toml":  "name = \"flood\"\n[labels]\napp = \"flood\"\n[[rule]]\nid = \"shadow-file-read\"\nmitigation = \"log\"\n",
	"killer.toml": "name = \"flood-kill\"\non_loss = \"terminate\"\n[labels]\napp = \"flood-kill\"\n[[rule]]\nid = \"shadow-file-read\"\nmitigation = \"log\"\n",
	"victim.toml": "name = \"victim\"\n[labels]\napp = \"victim\"\n[[rule]]\nid = \"shadow-file-read\"\nmitigation = \"log\"\n",
}

// floodCmd keeps two openers of /etc/shadow busy (one per CPU) for up to
// secs seconds (the image has no /etc/shadow: the flood makes one, so
// that its opens succeed and it goes on).
func floodCmd(secs string) []string {
	loop := "timeout " + secs + " sh -c 'while :; do /opt/trigger storm-open /etc/shadow 100000; done'"
	return []string{"sh", "-c", "touch /etc/shadow; " + loop + " & " + loop + " & wait; true"}
}

// TestFloodCannotBlind: while one pod floods the kernel event buffer, all
// 20 shadow reads of another pod are reported; the flooding pod gets an
// events-lost detection (T1562.006) with its counts, the victim none; and
// a flooding pod whose ruleset says on_loss = "terminate" is terminated.
func TestFloodCannotBlind(t *testing.T) {
	// a small buffer, so that two openers outrun the reader on any machine
	n, in := guardedNode(t, "[probes]\nbuffer_kib = 256\n", blindingRules)
	flood := n.CreatePod(t, sleeper("flood", map[string]string{"app": "flood"}))
	victim := n.CreatePod(t, sleeper("victim", map[string]string{"app": "victim"}))
	installTrigger(t, flood, "app", "/opt/trigger")

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); flood.Exec(t, "app", floodCmd("20")...) }()
	t.Cleanup(wg.Wait)
	st := in.waitStatus(t, eventWait, "the flood beyond its fair share", func(s api.Status) bool { return s.Probes.Drops["open"].Share > 0 })
	t.Logf("drops under the flood: %+v", st.Probes.Drops)
	victim.Exec(t, "app", "sh", "-c", "for i in $(seq 20); do cat /etc/shadow >/dev/null; done")

	lost := in.waitEvent(t, flood, "events-lost")
	t.Logf("flood: events-lost %v", lost.Details)
	if lost.Rule.Technique != "T1562.006" || lost.Rule.Tactic != "TA0005" || lost.Mitigation.Action != "log" || lost.Ruleset != "flood" {
		t.Errorf("events-lost = %+v", lost)
	}
	if n, _ := lost.Details["lost"].(float64); n <= 0 {
		t.Errorf("events-lost details %v: no count", lost.Details)
	}
	if !lostKind(lost, "open", "rate_limited") {
		t.Errorf("events-lost by_kind %v: no rate_limited open", lost.Details["by_kind"])
	}
	deadline := time.Now().Add(3 * foldWait)
	for rulesFor(in.events(t), victim)["shadow-file-read"] < 20 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	evs := in.events(t)
	got := rulesFor(evs, victim)
	if got["shadow-file-read"] != 20 {
		t.Errorf("victim: %d of 20 shadow reads reported under the flood; its events: %v", got["shadow-file-read"], got)
	}
	if got["events-lost"] != 0 {
		t.Errorf("victim, under its share, lost events: %v", got)
	}
	for _, ev := range evs {
		if ev.Pod.UID == victim.UID && ev.Rule.ID == "shadow-file-read" && ev.Pod.Name != "victim" {
			t.Errorf("shadow read attributed to %+v", ev.Pod)
		}
	}

	t.Run("on_loss terminate", func(t *testing.T) {
		p := n.CreatePod(t, sleeper("flood-kill", map[string]string{"app": "flood-kill"}))
		installTrigger(t, p, "app", "/opt/trigger")
		pids := []int{p.ContainerPID("app"), p.SandboxPID()}
		p.Exec(t, "app", floodCmd("20")...)
		ev := in.waitEvent(t, p, "events-lost")
		if ev.Mitigation.Action != "terminate" || ev.Mitigation.Result != "applied" || ev.Ruleset != "flood-kill" {
			t.Fatalf("events-lost mitigation = %+v (ruleset %q)", ev.Mitigation, ev.Ruleset)
		}
		deadline := time.Now().Add(10 * time.Second)
		for _, pid := range pids {
			for alive(pid) {
				if time.Now().After(deadline) {
					t.Fatalf("task pid %d of the flooding pod still runs after terminate", pid)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})
}

// foldWait is how long a folded summary takes to be written: the fold
// window and its one-second sweep, with margin.
const foldWait = 15 * time.Second

func lostKind(ev events.Event, kind, reason string) bool {
	list, _ := ev.Details["by_kind"].([]any)
	for _, x := range list {
		m, _ := x.(map[string]any)
		if m["kind"] == kind && m["reason"] == reason {
			if c, _ := m["count"].(float64); c > 0 {
				return true
			}
		}
	}
	return false
}

// TestChildCgroupEscape: a process that moves itself into a new child
// cgroup of its container (as one that can write its cgroupfs would, or
// a nested container) is still watched, and its shadow read is reported
// for its pod.
func TestChildCgroupEscape(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"php.toml": logAllPHP})
	p := n.CreatePod(t, sleeper("escape", map[string]string{"app": "php"}))
	child := filepath.Join(p.CgroupPath("app"), "escape")
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(child) }) // before the pod goes: runc cannot remove a cgroup with a child
	inPod(t, p.ContainerPID("app"), child, "cat /etc/shadow >/dev/null")
	ev := in.waitEvent(t, p, "shadow-file-read")
	if ev.Pod.Name != "escape" || ev.Container.Name != "app" || ev.Rule.Technique != "T1003.008" || ev.Details["path"] != "/etc/shadow" {
		t.Errorf("event = %+v", ev)
	}
}
