package daemon

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/config"
	"github.com/podguard/podguard/daemon/detect"
	"github.com/podguard/podguard/daemon/engine"
	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/daemon/memory"
	"github.com/podguard/podguard/daemon/metrics"
	"github.com/podguard/podguard/daemon/mitigate"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/daemon/tomlfile"
	"github.com/podguard/podguard/daemon/workload"
)

// Options configure Run.
type Options struct {
	// ConfigPath is the --config flag; "" means config.DefaultPath if it
	// exists, else built-in defaults.
	ConfigPath string
	// EmbeddedRules are the rulesets built into the binary, used while the
	// rules directory does not exist.
	EmbeddedRules fs.FS
	Version       string
	Logger        *slog.Logger
}

// Daemon is a running podguard.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	started time.Time
	store   *rulesets.Store
	ctx     context.Context

	resolver *workload.Resolver
	mit      *mitigate.Mitigator
	out      *events.Writer
	det      *detect.Detector
	mem      *memory.Guard

	metricsAddr string

	enableMu  sync.Mutex
	mu        sync.Mutex
	cfg       *config.Config
	cfgProbs  tomlfile.Problems
	enabled   bool
	reloads   atomic.Uint64
	reloadErr atomic.Uint64
}

// Run starts the daemon and blocks until ctx ends or a fatal error.
func Run(ctx context.Context, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	cfg, err := config.Load(opts.ConfigPath)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// Half the default heap growth: the daemon's live heap is a few
		// MiB, and at 100 the heap doubled it between collections (the
		// harness: anonymous RSS after an exec storm 14.9 -> 7.9 MiB, CPU
		// per event unchanged within its resolution).
		debug.SetGCPercent(50)
	}
	d := &Daemon{opts: opts, log: opts.Logger, started: time.Now(), cfg: cfg}
	if os.Geteuid() != 0 {
		d.log.Error("podguard runs as root on a node (BPF, tc, containerd, every /proc entry); as this user it can only load and report rules")
	}
	unlock, err := lockInstance(cfg)
	if err != nil {
		return err
	}
	defer unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.ctx = ctx
	d.store = rulesets.NewStore(d.rulesSource(cfg), cfg.StateDir, d.log)
	d.store.SetPolicy(cfg.Policy.Rulesets)

	d.resolver = workload.New(workload.Config{Address: cfg.Containerd.Address, Namespace: cfg.Containerd.Namespace}, d.log)
	go func() {
		if err := d.resolver.Run(ctx); err != nil {
			d.log.Error("workload resolver stopped", "err", err)
		}
	}()
	ecfg := eventsConfig(cfg)
	if u := cfg.Events.Webhook; u.URL != "" {
		ecfg.Webhook = events.NewWebhook(events.WebhookConfig{URL: u.URL, Format: u.Format, Queue: u.Queue}, d.log.With("component", "webhook"))
		go ecfg.Webhook.Run(ctx)
	}
	d.out = events.NewWriter(ecfg, d.log.With("component", "events"))
	writerDone := make(chan struct{})
	go func() { d.out.Run(ctx); close(writerDone) }()
	defer func() { cancel(); <-writerDone }()
	d.mit = mitigate.New(mitigate.Config{Address: cfg.Containerd.Address, Namespace: cfg.Containerd.Namespace, StateDir: cfg.StateDir, Allow: cfg.AllowPrefixes()}, d.resolver, d.log)
	defer d.mit.Close()
	d.det = detect.New(detect.Inputs{Rules: d.store, Workloads: d.resolver, Mitigator: d.mit, Output: d.out,
		Self: selfPaths(cfg), Settings: detectSettings(cfg), Logger: d.log, ProcessTable: cfg.Probes.ProcessTable})
	go d.det.Run(ctx)
	defer d.resolver.Subscribe(d.det.WorkloadsChanged)()
	go d.reconcileIsolation(ctx)
	d.mem = memory.New(d.log.With("component", "memory"))
	go d.mem.Run(ctx, 10*time.Second)

	d.reloadRules("start")
	d.setEnabled(cfg.Enabled)
	defer d.setEnabled(false)

	api, err := d.serveAPI(cfg.API.Socket)
	if err != nil {
		return err
	}
	defer os.Remove(cfg.API.Socket)
	defer api.Close()

	msrv, maddr, err := metrics.Serve(cfg.Metrics.Listen, metrics.Sources{Version: opts.Version, Detection: d.det, Outputs: d.out,
		Workloads: d.resolver, Isolation: d.mit, Lifecycle: d.lifecycle}, d.log)
	if err != nil {
		return fmt.Errorf("metrics on %s: %w (set [metrics] listen to a free address, or \"\" to turn metrics off)", cfg.Metrics.Listen, err)
	}
	if msrv != nil {
		defer msrv.Close()
		d.metricsAddr = maddr
	}

	files, err := followFiles(ctx, d.watchedPaths)
	if err != nil {
		return err
	}
	defer files.Close()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	// Loading the probes parsed the kernel's BTF and the embedded ELF
	// objects: several MiB of garbage an idle daemon would keep until the
	// next periodic collection. Return it now.
	debug.FreeOSMemory()
	d.log.Info("podguard running", "version", opts.Version, "config", cfgName(cfg), "rules", d.store.Current().Source, "enabled", cfg.Enabled, "api", cfg.API.Socket)
	d.notifyReady()
	defer d.notifyStopping()
	return d.follow(ctx, files, hup)
}

// config is the config in force.
func (d *Daemon) config() *config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// setEnabled switches detection and mitigation on or off. It holds
// enableMu, not mu, while the probes start or stop.
func (d *Daemon) setEnabled(on bool) {
	d.enableMu.Lock()
	defer d.enableMu.Unlock()
	d.mu.Lock()
	changed := d.enabled != on
	d.enabled = on
	d.mu.Unlock()
	if !changed {
		return
	}
	if on {
		d.log.Info("detection enabled")
		if err := d.det.Start(d.ctx); err != nil {
			d.log.Error("kernel probes not attached: no detection until this is fixed", "err", err)
		}
	} else {
		d.log.Info("detection disabled")
		d.det.Stop()
	}
}

// reconcileIsolation brings isolation in line with the pods that exist,
// once the resolver has listed them: isolation survives restarts.
func (d *Daemon) reconcileIsolation(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-d.resolver.Synced():
	}
	if err := d.mit.Reconcile(ctx); err != nil {
		d.log.Error("reconcile isolation", "err", err)
	}
}

func eventsConfig(cfg *config.Config) events.Config {
	e := cfg.Events
	c := events.Config{File: e.File, MaxBytes: int64(e.FileMaxMiB) << 20, Keep: e.FileKeep, MaxAge: e.MaxAge(),
		Recent: e.Recent, RecentPerPod: e.RecentPerPod}
	if cfg.Events.Stdout {
		c.Stdout = os.Stdout
	}
	return c
}

func cfgName(c *config.Config) string {
	if c.Path == "" {
		return "built-in defaults"
	}
	return c.Path
}

// detectSettings are the parts of cfg that detection reads.
func detectSettings(cfg *config.Config) detect.Settings {
	return detect.Settings{Node: cfg.Node, Cluster: cfg.Cluster, DryRun: cfg.DryRun, RingSize: cfg.Probes.BufferKiB << 10}
}

// selfPaths are podguard's own files, for the tamper rule.
func selfPaths(cfg *config.Config) engine.Self {
	s := engine.Self{PID: uint32(os.Getpid()), Paths: []string{cfg.RulesDir, cfg.StateDir, filepath.Dir(cfg.API.Socket),
		// where packages and images put podguard, whatever this node's config says
		"/etc/podguard", "/var/lib/podguard", "/run/podguard", "/var/log/podguard", "/usr/bin/podguard", "/usr/local/bin/podguard",
		"/lib/systemd/system/podguard.service", "/etc/systemd/system/podguard.service"}}
	if exe, err := os.Executable(); err == nil {
		s.Paths = append(s.Paths, exe)
	}
	if cfg.Path != "" {
		s.Paths = append(s.Paths, filepath.Dir(cfg.Path))
	}
	if cfg.Events.File != "" { // the evidence: its directory holds the rotated files too
		s.Paths = append(s.Paths, filepath.Dir(cfg.Events.File))
	}
	return s
}

// lifecycle is the daemon's own state, for metrics.
func (d *Daemon) lifecycle() metrics.Lifecycle {
	d.mu.Lock()
	enabled := d.enabled
	d.mu.Unlock()
	return metrics.Lifecycle{Enabled: enabled, Rulesets: len(d.store.Current().Rulesets), Reloads: d.reloads.Load(), ReloadErrors: d.reloadErr.Load()}
}

// Status reports the daemon's state.
func (d *Daemon) Status() api.Status {
	cfg := d.config()
	snap := d.store.Current()
	d.mu.Lock()
	st := api.Status{
		Version: d.opts.Version, PID: os.Getpid(), Started: d.started,
		Node: cfg.Node, Cluster: cfg.Cluster, Enabled: d.enabled, DryRun: cfg.DryRun, Metrics: d.metricsAddr,
		Config: api.ConfigStatus{File: cfg.Path, State: rulesets.StateOK, Problems: d.cfgProbs},
	}
	d.mu.Unlock()
	if len(st.Config.Problems) > 0 {
		st.Config.State = rulesets.StateError
	}
	st.Rules = api.RulesStatus{Source: snap.Source, Note: snap.SourceNote, Generation: snap.Generation, Files: snap.Files, MissingPolicy: snap.MissingPolicy, Active: []string{}}
	for _, rs := range snap.Rulesets {
		st.Rules.Active = append(st.Rules.Active, rs.Name)
	}
	det := d.det.Stats()
	st.Probes = probesStatus(det.Probes)
	rs := d.resolver.Stats()
	st.Containerd = api.ContainerdStatus{Address: cfg.Containerd.Address, Namespace: cfg.Containerd.Namespace, Connected: rs.Connected,
		LastError: rs.LastError, Pods: rs.Pods, Containers: rs.Containers, CgroupMode: rs.CgroupMode}
	st.Isolated = []api.IsolatedPod{}
	for _, r := range d.mit.Isolated() {
		st.Isolated = append(st.Isolated, isolatedPod(r))
	}
	for _, r := range d.mit.RejectedState() {
		st.RejectedState = append(st.RejectedState, isolatedPod(r))
	}
	st.Memory.Usage, st.Memory.Limit, st.Memory.Near = d.mem.Stats()
	st.Counters = counters(d.reloads.Load(), d.reloadErr.Load(), det, d.out.Stats())
	return st
}

// probesStatus describes the kernel probes for `podguard status`.
func probesStatus(p detect.ProbeStats) api.ProbesStatus {
	st := api.ProbesStatus{Attached: []string{}, Drops: map[string]api.KindDrops{}, Events: map[string]uint64{}, Unreadable: map[string]uint64{}}
	switch p.State {
	case detect.Attached:
		st.Attached, st.Watched = p.Attached, p.Watched
		if k := p.Kernel; k != nil {
			for _, ks := range k.Kinds {
				if ks.Delivered > 0 {
					st.Events[ks.Kind.String()] = ks.Delivered
				}
				if ks.QueueDrops+ks.RingDrops+ks.ShareDrops > 0 {
					st.Drops[ks.Kind.String()] = api.KindDrops{Ring: ks.RingDrops, Queue: ks.QueueDrops, Share: ks.ShareDrops}
				}
				if ks.Unreadable > 0 {
					st.Unreadable[ks.Kind.String()] = ks.Unreadable
				}
			}
			st.Transport, st.SyscallHook = string(k.Transport), string(k.SyscallHook)
			st.HookSet, st.HookSetReason = string(k.HookSet), k.HookSetReason
		}
	case detect.LoadFailed:
		st.Error = p.Err.Error()
	default:
		st.Note = "detached: enabled = false"
	}
	return st
}

// counters are the counters of `podguard status`, by the names users and
// scripts read: the one place those names are written.
func counters(reloads, reloadErrors uint64, det detect.Stats, out events.Stats) map[string]uint64 {
	c := map[string]uint64{
		"rule_reloads":           reloads,
		"rule_reload_errors":     reloadErrors,
		"rule_matches":           det.Matches,
		"mitigation_dropped":     det.MitigationDrops,
		"events_emitted":         out.Emitted,
		"events_written":         out.Written,
		"events_queue_dropped":   out.QueueDropped,
		"events_file_write_lost": out.FileWriteLost,
		"process_table":          uint64(det.ProcTable),
		"process_table_pressure": det.ProcPressure,
	}
	if k := det.Probes.Kernel; k != nil {
		c["kernel_events"] = k.Delivered
		c["kernel_decode_errors"] = k.DecodeErrors
		c["kernel_lost_unattributed"] = k.LostUnattributed
	}
	if w := out.Webhook; w != nil {
		c["webhook_sent"] = w.Sent
		c["webhook_queue_dropped"] = w.QueueDropped
		c["webhook_failed"] = w.Failed
	}
	return c
}
