package daemon

import (
	"errors"
	"github.com/podguard/podguard/daemon/api"
	"maps"
	"slices"
	"testing"

	"github.com/podguard/podguard/daemon/detect"
	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/probes"
)

// TestStatusCounters: the counters of `podguard status` keep the names
// users and scripts read; the kernel's appear while the probes report,
// the webhook's when there is a webhook.
func TestStatusCounters(t *testing.T) {
	det := detect.Stats{Matches: 3, MitigationDrops: 1, ProcTable: 42, ProcPressure: 5}
	out := events.Stats{Emitted: 4, Written: 3, QueueDropped: 1}
	base := []string{"events_emitted", "events_file_write_lost", "events_queue_dropped", "events_written",
		"mitigation_dropped", "process_table", "process_table_pressure", "rule_matches", "rule_reload_errors", "rule_reloads"}
	if got := slices.Sorted(maps.Keys(counters(2, 0, det, out))); !slices.Equal(got, base) {
		t.Fatalf("detached, no webhook: %v", got)
	}
	det.Probes = detect.ProbeStats{State: detect.Attached, Kernel: &detect.KernelStats{Delivered: 10, DecodeErrors: 1, LostUnattributed: 2}}
	out.Webhook = &events.WebhookStats{Sent: 3}
	c := counters(2, 0, det, out)
	want := map[string]uint64{"rule_reloads": 2, "rule_reload_errors": 0, "rule_matches": 3, "mitigation_dropped": 1,
		"events_emitted": 4, "events_written": 3, "events_queue_dropped": 1, "events_file_write_lost": 0,
		"process_table": 42, "process_table_pressure": 5,
		"kernel_events": 10, "kernel_decode_errors": 1, "kernel_lost_unattributed": 2,
		"webhook_sent": 3, "webhook_queue_dropped": 0, "webhook_failed": 0}
	if !maps.Equal(c, want) {
		t.Fatalf("counters %v\nwant     %v", c, want)
	}
}

// TestProbesStatus: the probes' part of `podguard status` says why
// nothing is attached, and lists per kind only what happened.
func TestProbesStatus(t *testing.T) {
	if st := probesStatus(detect.ProbeStats{State: detect.Detached}); st.Note != "detached: enabled = false" || st.Attached == nil {
		t.Errorf("detached: %+v", st)
	}
	if st := probesStatus(detect.ProbeStats{State: detect.LoadFailed, Err: errors.New("no BTF")}); st.Error != "no BTF" {
		t.Errorf("load failed: %+v", st)
	}
	st := probesStatus(detect.ProbeStats{State: detect.Attached, Attached: []string{"a"}, Watched: 2, Kernel: &detect.KernelStats{
		Transport: probes.TransportRingBuffer, SyscallHook: probes.HookRawTracepoint, HookSet: probes.HookSetLSM, HookSetReason: "why",
		Kinds: []probes.KindStats{{Kind: probes.KindExec, Delivered: 5}, {Kind: probes.KindOpen, QueueDrops: 1}, {Kind: probes.KindConnect}}}})
	if st.Watched != 2 || len(st.Attached) != 1 || st.Transport != string(probes.TransportRingBuffer) || st.SyscallHook != string(probes.HookRawTracepoint) ||
		st.HookSet != "lsm" || st.HookSetReason != "why" ||
		!maps.Equal(st.Events, map[string]uint64{"exec": 5}) || !maps.Equal(st.Drops, map[string]api.KindDrops{"open": {Queue: 1}}) {
		t.Errorf("attached: %+v", st)
	}
}
