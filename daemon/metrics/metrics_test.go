package metrics

import (
	"fmt"
	"maps"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/detect"
	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/isolate"
	"github.com/podguard/podguard/probes"
)

type detection detect.Stats

func (d detection) Stats() detect.Stats { return detect.Stats(d) }

type outputs events.Stats

func (o outputs) Stats() events.Stats { return events.Stats(o) }

type workloads workload.Stats

func (w workloads) Stats() workload.Stats { return workload.Stats(w) }

type isolation int

func (n isolation) Isolated() []isolate.Record { return make([]isolate.Record, n) }

// TestCollect: what the sources count is what a scrape shows.
func TestCollect(t *testing.T) {
	c := &collector{Sources{
		Version: "v1",
		Detection: detection{
			ByRule:   map[detect.RuleAction]uint64{{Rule: "shadow-file-read", Action: catalog.Isolate}: 3},
			ByResult: map[detect.ActionResult]uint64{{Action: catalog.Isolate, Result: events.ResultApplied}: 1},
			Probes: detect.ProbeStats{State: detect.Attached, Attached: []string{"a", "b"}, Watched: 4, Kernel: &detect.KernelStats{
				Kinds:            []probes.KindStats{{Kind: probes.KindExec, Delivered: 7}, {Kind: probes.KindOpen, Delivered: 9, RingDrops: 2, ShareDrops: 4}, {Kind: probes.KindConnect}},
				LostUnattributed: 5,
			}},
		},
		Outputs:   outputs{QueueDropped: 6, FileWriteLost: 1},
		Workloads: workloads{Connected: true, Pods: 2, Containers: 3},
		Isolation: isolation(1),
		Lifecycle: func() Lifecycle { return Lifecycle{Enabled: true, Rulesets: 2, Reloads: 8, ReloadErrors: 1} },
	}}
	want := map[string]float64{
		`podguard_events_total{action="isolate",rule="shadow-file-read"}`:         3,
		`podguard_mitigations_total{action="isolate",result="applied"}`:           1,
		`podguard_kernel_events_total{kind="exec"}`:                               7,
		`podguard_kernel_events_total{kind="open"}`:                               9,
		`podguard_kernel_events_dropped_total{kind="open",where="ring_buffer"}`:   2,
		`podguard_kernel_events_dropped_total{kind="open",where="fair_share"}`:    4,
		`podguard_kernel_events_dropped_total{kind="open",where="queue"}`:         0,
		`podguard_kernel_events_dropped_total{kind="unknown",where="kernel"}`:     5,
		`podguard_output_events_dropped_total{output="queue"}`:                    6,
		`podguard_output_events_dropped_total{output="file"}`:                     1,
		`podguard_probes_attached`:                                                2,
		`podguard_watched_cgroups`:                                                4,
		`podguard_pods`:                                                           2,
		`podguard_containers`:                                                     3,
		`podguard_containerd_connected`:                                           1,
		`podguard_enabled`:                                                        1,
		`podguard_isolated_pods`:                                                  1,
		`podguard_rule_reloads_total`:                                             8,
		`podguard_rule_reload_errors_total`:                                       1,
		`podguard_rulesets_active`:                                                2,
		`podguard_build_info{goversion="` + runtime.Version() + `",version="v1"}`: 1,
	}
	if got := scrape(t, c); !maps.Equal(got, want) {
		t.Fatalf("scraped:\n%v\nwant:\n%v", got, want)
	}
}

// scrape collects c as a registry would, as series name{labels} → value.
func scrape(tb testing.TB, c prometheus.Collector) map[string]float64 {
	tb.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			series := mf.GetName()
			if len(labels) > 0 {
				series += "{" + strings.Join(labels, ",") + "}"
			}
			got[series] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return got
}
