package daemon

import (
	"errors"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serveMetrics exposes Prometheus metrics on cfg's [metrics] listen
// address. Values are read from the daemon at scrape time, so metrics cost
// nothing on the event path beyond the counters the daemon keeps anyway.
func (d *Daemon) serveMetrics(listen string) (*http.Server, string, error) {
	if listen == "" {
		return nil, "", nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &collector{d: d})
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics server stopped", "err", err)
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

type collector struct{ d *Daemon }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEvents, descMitigations, descKernel, descDrops, descOutDrops, descProbes, descWatched, descPods,
		descContainers, descConnected, descEnabled, descIsolated, descReloads, descReloadErrs, descRulesets, descBuild} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.d.Status()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	c.d.pipe.byRule.Range(func(k, v any) bool {
		rule, action, _ := strings.Cut(k.(string), "\x00")
		counter(descEvents, v.(*countCell).n.Load(), rule, action)
		return true
	})
	c.d.pipe.byResult.Range(func(k, v any) bool {
		action, result, _ := strings.Cut(k.(string), "\x00")
		counter(descMitigations, v.(*countCell).n.Load(), action, result)
		return true
	})
	for kind, n := range st.Probes.Events {
		counter(descKernel, n, kind)
	}
	for kind, dr := range st.Probes.Drops {
		counter(descDrops, dr.Ring, kind, "ring_buffer")
		counter(descDrops, dr.Queue, kind, "queue")
	}
	counter(descDrops, st.Counters["kernel_lost_unattributed"], "unknown", "kernel")
	counter(descOutDrops, st.Counters["events_queue_dropped"], "queue")
	counter(descOutDrops, st.Counters["events_file_write_lost"], "file")
	gauge(descProbes, float64(len(st.Probes.Attached)))
	gauge(descWatched, float64(st.Probes.Watched))
	gauge(descPods, float64(st.Containerd.Pods))
	gauge(descContainers, float64(st.Containerd.Containers))
	gauge(descConnected, b2f(st.Containerd.Connected))
	gauge(descEnabled, b2f(st.Enabled))
	gauge(descIsolated, float64(len(st.Isolated)))
	counter(descReloads, st.Counters["rule_reloads"])
	counter(descReloadErrs, st.Counters["rule_reload_errors"])
	gauge(descRulesets, float64(len(st.Rules.Active)))
	gauge(descBuild, 1, c.d.opts.Version, runtime.Version())
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
