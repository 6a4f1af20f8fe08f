package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/events"
)

func TestEventFilter(t *testing.T) {
	now := time.Now()
	ev := events.Event{Time: now.Add(-time.Minute), Node: "n1", Ruleset: "shop-rules",
		Rule: events.Rule{ID: "namespace-escape", Technique: "T1611.001"},
		Pod:  events.PodRef{Name: "web", Namespace: "shop"}, Mitigation: events.Outcome{Action: "terminate"}}
	l := func(v ...string) []string { return v }
	for _, c := range []struct {
		f    eventFilter
		want bool
	}{
		{eventFilter{}, true},
		{eventFilter{Pods: l("web")}, true},
		{eventFilter{Pods: l("shop/web")}, true},
		{eventFilter{Pods: l("other/web")}, false},
		{eventFilter{Pods: l("shop")}, false},
		{eventFilter{Pods: l("db", "web")}, true}, // one of the values
		{eventFilter{Namespaces: l("shop")}, true},
		{eventFilter{Namespaces: l("web")}, false},
		{eventFilter{Rules: l("namespace-escape")}, true},
		{eventFilter{Rules: l("namespace")}, false},
		{eventFilter{Rules: l("shadow-file-read", "namespace-escape")}, true},
		{eventFilter{Techniques: l("T1611.001")}, true},
		{eventFilter{Techniques: l("T1611")}, true}, // a technique matches its sub-techniques
		{eventFilter{Techniques: l("T161")}, false}, // not any prefix
		{eventFilter{Techniques: l("T1611.002")}, false},
		{eventFilter{Actions: l("terminate")}, true},
		{eventFilter{Actions: l("log")}, false},
		{eventFilter{Nodes: l("n1")}, true},
		{eventFilter{Nodes: l("n2")}, false},
		{eventFilter{Rulesets: l("shop-rules")}, true},
		{eventFilter{Rulesets: l("other")}, false},
		{eventFilter{Since: now.Add(-time.Hour)}, true},
		{eventFilter{Since: now}, false},
		{eventFilter{Until: now}, true},
		{eventFilter{Until: now.Add(-time.Hour)}, false},
		{eventFilter{Since: now.Add(-2 * time.Minute), Until: now.Add(-30 * time.Second)}, true},
		{eventFilter{Pods: l("web"), Namespaces: l("shop"), Techniques: l("T1611"), Actions: l("terminate"), Since: now.Add(-time.Hour)}, true},
		{eventFilter{Pods: l("web"), Namespaces: l("shop"), Techniques: l("T1611"), Actions: l("isolate")}, false}, // flags combine with AND
	} {
		if got := c.f.match(ev); got != c.want {
			t.Errorf("%+v matches = %v, want %v", c.f, got, c.want)
		}
	}
}

func TestListFlag(t *testing.T) {
	var l listFlag
	for _, v := range []string{"a", "b,c", " d , ,e"} {
		if err := l.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(l, "|"); got != "a|b|c|d|e" {
		t.Errorf("repeated and comma-separated values = %s, want a|b|c|d|e", got)
	}
}

func TestTimeFlag(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	f := &timeFlag{now: func() time.Time { return now }}
	if err := f.Set("90m"); err != nil || !f.t.Equal(now.Add(-90*time.Minute)) {
		t.Errorf("90m = %v, %v; want %v", f.t, err, now.Add(-90*time.Minute))
	}
	if err := f.Set("2026-12-01T08:30:00+01:00"); err != nil || !f.t.Equal(time.Date(2026, 12, 1, 7, 30, 0, 0, time.UTC)) {
		t.Errorf("RFC 3339 time = %v, %v", f.t, err)
	}
	for _, bad := range []string{"-5m", "0s", "yesterday", "2026-12-01"} {
		if err := f.Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
