package test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMetricsScrape scrapes /metrics after an attack, as Prometheus would.
func TestMetricsScrape(t *testing.T) {
	n, in := guardedNode(t, "", isolateOnShadow("php-metrics"))
	p := n.CreatePod(t, sleeper("metrics", map[string]string{"app": "php-metrics"}))
	p.Exec(t, "app", "cat", "/etc/shadow")
	in.waitEvent(t, p, "shadow-file-read")
	st, err := in.statusErr()
	if err != nil || st.Metrics == "" {
		t.Fatalf("status has no metrics address: %v", err)
	}
	resp, err := http.Get("http://" + st.Metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	value := func(series string) float64 {
		t.Helper()
		m := regexp.MustCompile("(?m)^" + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in /metrics:\n%s", series, body)
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	checks := map[string]func(float64) bool{
		`podguard_events_total{action="isolate",rule="shadow-file-read"}`:     func(v float64) bool { return v >= 1 },
		`podguard_mitigations_total{action="isolate",result="applied"}`:       func(v float64) bool { return v == 1 },
		`podguard_kernel_events_total{kind="exec"}`:                           func(v float64) bool { return v >= 1 },
		`podguard_isolated_pods`:                                              func(v float64) bool { return v == 1 },
		`podguard_containerd_connected`:                                       func(v float64) bool { return v == 1 },
		`podguard_enabled`:                                                    func(v float64) bool { return v == 1 },
		`podguard_rulesets_active`:                                            func(v float64) bool { return v == 1 },
		`podguard_probes_attached`:                                            func(v float64) bool { return v > 10 },
		`podguard_output_events_dropped_total{output="file"}`:                 func(v float64) bool { return v == 0 },
		`podguard_build_info{goversion="` + goVersion(t) + `",version="dev"}`: func(v float64) bool { return v == 1 },
	}
	for series, ok := range checks {
		if v := value(series); !ok(v) {
			t.Errorf("%s = %v", series, v)
		}
	}

	// The same event through `podguard events` on the live daemon.
	out, _, code := podguard(t, "events", "--config", in.config, "--rule", "shadow-file-read")
	if code != 0 || !strings.Contains(out, "default/metrics") || !strings.Contains(out, "isolate (applied)") {
		t.Errorf("podguard events on the live daemon: code %d\n%s", code, out)
	}
	if out, _, _ := podguard(t, "events", "--config", in.config, "--action", "log"); strings.Contains(out, "default/metrics") {
		t.Errorf("--action log listed an isolate event:\n%s", out)
	}
}
