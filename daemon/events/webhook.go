package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Webhook formats.
const (
	FormatPodguard = "podguard" // the event as written to the events file
	FormatFalco    = "falco"    // Falco's JSON output, as Falcosidekick accepts it on /
)

// WebhookConfig configures an HTTP output.
type WebhookConfig struct {
	URL     string
	Format  string        // FormatPodguard or FormatFalco
	Queue   int           // events waiting to be posted (default 1024)
	Timeout time.Duration // per request (default 5 s)
	Retries int           // attempts after the first (default 3), with backoff
}

// Webhook posts events to an HTTP endpoint from its own goroutine. A slow
// or dead endpoint fills its queue; further events are dropped and
// counted, and detection never waits.
type Webhook struct {
	cfg    WebhookConfig
	log    *slog.Logger
	client *http.Client
	queue  chan Event

	sent, dropped, failed atomic.Uint64
}

// NewWebhook makes a webhook output; call Run to start posting.
func NewWebhook(cfg WebhookConfig, log *slog.Logger) *Webhook {
	if cfg.Queue <= 0 {
		cfg.Queue = 1024
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	} else if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.Format == "" {
		cfg.Format = FormatPodguard
	}
	return &Webhook{cfg: cfg, log: log, client: &http.Client{Timeout: cfg.Timeout}, queue: make(chan Event, cfg.Queue)}
}

// Offer queues an event without blocking.
func (w *Webhook) Offer(ev Event) {
	select {
	case w.queue <- ev:
	default:
		w.dropped.Add(1)
	}
}

// Run posts queued events until ctx ends.
func (w *Webhook) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-w.queue:
			w.post(ctx, ev)
		}
	}
}

func (w *Webhook) post(ctx context.Context, ev Event) {
	body, err := w.encode(ev)
	if err != nil {
		w.failed.Add(1)
		return
	}
	backoff := 200 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err = w.try(ctx, body)
		if err == nil {
			w.sent.Add(1)
			return
		}
		if attempt >= w.cfg.Retries || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff *= 2
	}
	if w.failed.Add(1) == 1 || w.failed.Load()%100 == 0 {
		w.log.Error("webhook: event lost for this output", "url", w.cfg.URL, "err", err, "lost_so_far", w.failed.Load())
	}
}

func (w *Webhook) try(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "podguard")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", w.cfg.URL, resp.Status)
	}
	return nil
}

// WebhookStats counts what a Webhook did with the events it was offered.
type WebhookStats struct {
	Sent         uint64 // posted and accepted
	QueueDropped uint64 // dropped: the queue was full
	Failed       uint64 // not accepted after every retry
}

// Stats counts posted, dropped (queue full) and failed (after retries)
// events.
func (w *Webhook) Stats() WebhookStats {
	return WebhookStats{Sent: w.sent.Load(), QueueDropped: w.dropped.Load(), Failed: w.failed.Load()}
}

func (w *Webhook) encode(ev Event) ([]byte, error) {
	if w.cfg.Format == FormatFalco {
		return json.Marshal(ToFalco(ev))
	}
	return json.Marshal(ev)
}

// FalcoEvent is Falco's JSON output format, which Falcosidekick takes as
// input, so podguard events reach every Falcosidekick output.
type FalcoEvent struct {
	UUID         string         `json:"uuid,omitempty"`
	Output       string         `json:"output"`
	Priority     string         `json:"priority"`
	Rule         string         `json:"rule"`
	Time         time.Time      `json:"time"`
	Source       string         `json:"source"`
	Hostname     string         `json:"hostname"`
	Tags         []string       `json:"tags"`
	OutputFields map[string]any `json:"output_fields"`
}

// ToFalco maps a podguard event to Falco's output format. The priority
// follows the mitigation: terminate is Critical, isolate Error, log
// Warning.
func ToFalco(ev Event) FalcoEvent {
	prio := map[string]string{"terminate": "Critical", "isolate": "Error", "log": "Warning"}[ev.Mitigation.Action]
	if prio == "" {
		prio = "Notice"
	}
	fields := map[string]any{
		"k8s.pod.name": ev.Pod.Name, "k8s.ns.name": ev.Pod.Namespace, "k8s.pod.uid": ev.Pod.UID,
		"container.id": shortID(ev.Container.ID), "container.name": ev.Container.Name, "container.image": ev.Container.Image,
		"proc.pid": ev.Process.PID, "proc.ppid": ev.Process.PPID, "proc.exepath": ev.Process.Exe, "proc.cmdline": strings.Join(ev.Process.Args, " "),
		"proc.pexepath": ev.Process.ParentExe, "user.uid": ev.Process.UID, "evt.type": ev.Kind, "evt.time": ev.Time.UnixNano(),
		"podguard.ruleset": ev.Ruleset, "podguard.mitigation": ev.Mitigation.Action, "podguard.mitigation.result": ev.Mitigation.Result,
		"podguard.count": ev.Count,
	}
	for k, v := range ev.Pod.Labels {
		fields["k8s.pod.label."+k] = v
	}
	for k, v := range ev.Details {
		fields["podguard.details."+k] = v
	}
	out := fmt.Sprintf("%s (pod=%s/%s container=%s exe=%s cmdline=%q mitigation=%s:%s)", ev.Rule.Name, ev.Pod.Namespace, ev.Pod.Name,
		ev.Container.Name, ev.Process.Exe, strings.Join(ev.Process.Args, " "), ev.Mitigation.Action, ev.Mitigation.Result)
	return FalcoEvent{
		Output: ev.Time.Format(time.RFC3339Nano) + ": " + prio + " " + out, Priority: prio, Rule: ev.Rule.Name, Time: ev.Time,
		Source: "syscall", Hostname: ev.Node, OutputFields: fields,
		Tags: []string{"podguard", "container", "mitre_" + strings.ReplaceAll(strings.ToLower(ev.Rule.Tactic), " ", "_"), ev.Rule.Technique, ev.Rule.ID},
	}
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
