package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/podguard/podguard/daemon/events"
)

// eventFilter selects events for `podguard events`. Each field lists the
// values one flag was given (the flag repeated or comma-separated); an
// event passes when, for every flag given, it matches one of its values.
// Empty fields match all.
type eventFilter struct {
	Pods       []string // pod name or namespace/name
	Namespaces []string
	Rules      []string // rule id
	Techniques []string // technique id; T1611 also matches T1611.x
	Actions    []string // log | isolate | terminate
	Nodes      []string
	Rulesets   []string
	Since      time.Time // zero: no lower bound
	Until      time.Time // zero: no upper bound
}

// match reports whether ev passes the filter.
func (f eventFilter) match(ev events.Event) bool {
	return anyOf(f.Pods, func(p string) bool { return p == ev.Pod.Name || p == ev.Pod.Namespace+"/"+ev.Pod.Name }) &&
		anyOf(f.Namespaces, func(ns string) bool { return ns == ev.Pod.Namespace }) &&
		anyOf(f.Rules, func(id string) bool { return id == ev.Rule.ID }) &&
		anyOf(f.Techniques, func(t string) bool {
			return ev.Rule.Technique == t || strings.HasPrefix(ev.Rule.Technique, t+".")
		}) &&
		anyOf(f.Actions, func(a string) bool { return a == ev.Mitigation.Action }) &&
		anyOf(f.Nodes, func(n string) bool { return n == ev.Node }) &&
		anyOf(f.Rulesets, func(r string) bool { return r == ev.Ruleset }) &&
		(f.Since.IsZero() || !ev.Time.Before(f.Since)) &&
		(f.Until.IsZero() || ev.Time.Before(f.Until))
}

func anyOf(values []string, match func(string) bool) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		if match(v) {
			return true
		}
	}
	return false
}

// listFlag is a flag that may be repeated (--rule a --rule b) or given a
// comma-separated list (--rule a,b).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func (l *listFlag) Get() any { return []string(*l) }

// timeFlag is a point in time given as a duration before now (10m, 24h)
// or as an RFC 3339 time (2026-12-03T10:00:00Z).
type timeFlag struct {
	t   time.Time
	now func() time.Time
}

func (f *timeFlag) String() string {
	if f == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(v string) error {
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return fmt.Errorf("%q: give how long ago as a positive duration (10m, 24h) or an RFC 3339 time", v)
		}
		f.t = f.now().Add(-d)
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("%q: not a duration (10m, 24h) or an RFC 3339 time (2026-12-03T10:00:00Z)", v)
	}
	f.t = t
	return nil
}

func (f *timeFlag) Get() any { return f.t }
