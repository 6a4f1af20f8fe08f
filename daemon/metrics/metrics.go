package metrics

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/podguard/podguard/daemon/detect"
	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/isolate"
)

// Sources are what the metrics are read from, at each scrape.
type Sources struct {
	Version   string
	Detection interface{ Stats() detect.Stats }        // detect.Detector
	Outputs   interface{ Stats() events.Stats }        // events.Writer
	Workloads interface{ Stats() workload.Stats }      // workload.Resolver
	Isolation interface{ Isolated() []isolate.Record } // mitigate.Mitigator
	Lifecycle func() Lifecycle                         // the daemon's own state
}

// Lifecycle is the daemon's own state.
type Lifecycle struct {
	Enabled      bool // detection and mitigation are on
	Rulesets     int  // rulesets in force
	Reloads      uint64
	ReloadErrors uint64 // reloads that found a rejected file or config
}

// Serve exposes the metrics on /metrics at listen, until the server is
// closed, and returns the address it listens on. An empty listen serves
// nothing: no server, no error.
func Serve(listen string, src Sources, log *slog.Logger) (*http.Server, string, error) {
	if listen == "" {
		return nil, "", nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &collector{src})
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return srv, l.Addr().String(), nil
}

var (
	descEvents      = prometheus.NewDesc("podguard_events_total", "Rule matches, by rule and mitigation action (folded repeats included).", []string{"rule", "action"}, nil)
	descMitigations = prometheus.NewDesc("podguard_mitigations_total", "Mitigations carried out, by action and result.", []string{"action", "result"}, nil)
	descKernel      = prometheus.NewDesc("podguard_kernel_events_total", "Events delivered by the kernel probes, by kind.", []string{"kind"}, nil)
	descDrops       = prometheus.NewDesc("podguard_kernel_events_dropped_total", "Kernel events lost, by kind and where (ring_buffer: no room in the kernel buffer; queue: the userspace queue was full; kernel: a perf buffer overrun or a probe run the kernel skipped, kind unknown).", []string{"kind", "where"}, nil)
	descOutDrops    = prometheus.NewDesc("podguard_output_events_dropped_total", "Detection events an output could not take.", []string{"output"}, nil)
	descProbes      = prometheus.NewDesc("podguard_probes_attached", "Kernel programs attached.", nil, nil)
	descWatched     = prometheus.NewDesc("podguard_watched_cgroups", "Container cgroups the kernel filter watches.", nil, nil)
	descPods        = prometheus.NewDesc("podguard_pods", "Pods known from containerd.", nil, nil)
	descContainers  = prometheus.NewDesc("podguard_containers", "Workload containers known from containerd.", nil, nil)
	descConnected   = prometheus.NewDesc("podguard_containerd_connected", "1 when podguard is connected to containerd.", nil, nil)
	descEnabled     = prometheus.NewDesc("podguard_enabled", "1 when detection and mitigation are on.", nil, nil)
	descIsolated    = prometheus.NewDesc("podguard_isolated_pods", "Pods whose network podguard has cut.", nil, nil)
	descReloads     = prometheus.NewDesc("podguard_rule_reloads_total", "Rules reloads.", nil, nil)
	descReloadErrs  = prometheus.NewDesc("podguard_rule_reload_errors_total", "Reloads that found a rejected file or config.", nil, nil)
	descRulesets    = prometheus.NewDesc("podguard_rulesets_active", "Rulesets in force.", nil, nil)
	descBuild       = prometheus.NewDesc("podguard_build_info", "podguard's version.", []string{"version", "goversion"}, nil)
)

type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEvents, descMitigations, descKernel, descDrops, descOutDrops, descProbes, descWatched, descPods,
		descContainers, descConnected, descEnabled, descIsolated, descReloads, descReloadErrs, descRulesets, descBuild} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	det := c.src.Detection.Stats()
	for k, n := range det.ByRule {
		counter(descEvents, n, k.Rule, k.Action.String())
	}
	for k, n := range det.ByResult {
		counter(descMitigations, n, k.Action.String(), k.Result)
	}
	var lost uint64
	if ks := det.Probes.Kernel; ks != nil {
		for _, k := range ks.Kinds {
			if k.Delivered > 0 {
				counter(descKernel, k.Delivered, k.Kind.String())
			}
			if k.RingDrops+k.QueueDrops+k.ShareDrops > 0 {
				counter(descDrops, k.RingDrops, k.Kind.String(), "ring_buffer")
				counter(descDrops, k.QueueDrops, k.Kind.String(), "queue")
				counter(descDrops, k.ShareDrops, k.Kind.String(), "fair_share")
			}
		}
		lost = ks.LostUnattributed
	}
	counter(descDrops, lost, "unknown", "kernel")
	out := c.src.Outputs.Stats()
	counter(descOutDrops, out.QueueDropped, "queue")
	counter(descOutDrops, out.FileWriteLost, "file")
	gauge(descProbes, float64(len(det.Probes.Attached)))
	gauge(descWatched, float64(det.Probes.Watched))
	wl := c.src.Workloads.Stats()
	gauge(descPods, float64(wl.Pods))
	gauge(descContainers, float64(wl.Containers))
	gauge(descConnected, b2f(wl.Connected))
	lc := c.src.Lifecycle()
	gauge(descEnabled, b2f(lc.Enabled))
	gauge(descIsolated, float64(len(c.src.Isolation.Isolated())))
	counter(descReloads, lc.Reloads)
	counter(descReloadErrs, lc.ReloadErrors)
	gauge(descRulesets, float64(lc.Rulesets))
	gauge(descBuild, 1, c.src.Version, runtime.Version())
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
