package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/config"
	"github.com/podguard/podguard/daemon/events"
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
	pipe     *pipeline
	enf      *enforcer

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
	d.pipe = newPipeline(d, d.resolver, d.mit, d.out, selfPaths(d))
	go d.pipe.mitigate(ctx)
	d.enf = &enforcer{d: d}
	defer d.resolver.Subscribe(d.enf.workloadsChanged)()
	go d.reconcileIsolation(ctx)

	d.reloadRules("start")
	d.setEnabled(cfg.Enabled)
	defer d.setEnabled(false)

	api, err := d.serveAPI(cfg.API.Socket)
	if err != nil {
		return err
	}
	defer api.Close()

	msrv, maddr, err := d.serveMetrics(cfg.Metrics.Listen)
	if err != nil {
		return fmt.Errorf("metrics on %s: %w (set [metrics] listen to a free address, or \"\" to turn metrics off)", cfg.Metrics.Listen, err)
	}
	if msrv != nil {
		defer msrv.Close()
		d.metricsAddr = maddr
	}

	w, err := d.watch(ctx)
	if err != nil {
		return err
	}
	defer w.Close()

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
	for {
		select {
		case <-ctx.Done():
			d.log.Info("podguard stopping", "reason", context.Cause(ctx))
			return nil
		case <-hup:
			d.log.Info("SIGHUP: reloading config and rules")
			d.reloadConfig()
			w.sync()
			d.reloadRules("SIGHUP")
		case ev := <-w.changes:
			if ev.config {
				d.reloadConfig()
				w.sync()
			}
			d.reloadRules(ev.reason)
		case err := <-w.errors:
			d.log.Warn("watching files", "err", err)
		}
	}
}

func (d *Daemon) rulesSource(cfg *config.Config) rulesets.Source {
	return rulesets.Source{Dir: cfg.RulesDir, Embedded: d.opts.EmbeddedRules}
}

func (d *Daemon) config() *config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// reloadRules builds a new rules snapshot and swaps it in.
func (d *Daemon) reloadRules(reason string) {
	before := d.store.Current()
	snap := d.store.Reload()
	d.reloads.Add(1)
	for _, f := range snap.Files {
		if f.State == rulesets.StateError && (before == nil || !sameProblem(before, f)) {
			d.reloadErr.Add(1)
			break
		}
	}
	d.pipe.eng.SetRules(snap)
	d.enf.reprogram()
	if before == nil || before.Generation != snap.Generation {
		d.log.Debug("rules reloaded", "reason", reason, "generation", snap.Generation, "active", len(snap.Rulesets))
	}
}

func sameProblem(s *rulesets.Snapshot, f rulesets.FileStatus) bool {
	for _, o := range s.Files {
		if o.File == f.File {
			return o.State == f.State && o.Problems.Error() == f.Problems.Error()
		}
	}
	return false
}

// reloadConfig re-reads the config file. A bad file is reported and the
// config in force stays.
func (d *Daemon) reloadConfig() {
	old := d.config()
	if old.Path == "" && d.opts.ConfigPath == "" {
		if _, err := os.Stat(config.DefaultPath); err != nil {
			return // still running on built-in defaults
		}
	}
	cfg, err := config.Load(d.opts.ConfigPath)
	if err != nil {
		var probs tomlfile.Problems
		if !errors.As(err, &probs) {
			probs = tomlfile.Problems{{File: cfgName(old), Msg: err.Error()}}
		}
		d.mu.Lock()
		changed := d.cfgProbs.Error() != probs.Error()
		d.cfgProbs = probs
		d.mu.Unlock()
		if changed {
			d.reloadErr.Add(1)
			d.log.Warn("config rejected; the previous config stays in force", "problems", probs.Error())
		}
		return
	}
	d.mu.Lock()
	d.cfg, d.cfgProbs = cfg, nil
	d.mu.Unlock()
	if cfg.API.Socket != old.API.Socket || cfg.StateDir != old.StateDir || cfg.Probes != old.Probes {
		d.log.Warn("api.socket, state_dir and [probes] changes take effect at the next restart")
	}
	d.store.SetSource(d.rulesSource(cfg))
	d.store.SetPolicy(cfg.Policy.Rulesets)
	d.setEnabled(cfg.Enabled)
	d.enf.reprogram() // dry_run arms or disarms in-kernel kills
}

// setEnabled switches detection and mitigation on or off. It holds
// enableMu, not mu: starting the probes reads the config.
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
		d.enf.start(d.ctx)
	} else {
		d.log.Info("detection disabled")
		d.enf.stop()
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
	c := events.Config{File: cfg.Events.File}
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
	var probeCounters map[string]uint64
	st.Probes, probeCounters = d.enf.status()
	rs := d.resolver.Stats()
	st.Containerd = api.ContainerdStatus{Address: cfg.Containerd.Address, Namespace: cfg.Containerd.Namespace, Connected: rs.Connected,
		LastError: rs.LastError, Pods: rs.Pods, Containers: rs.Containers, CgroupMode: rs.CgroupMode}
	st.Isolated = []api.IsolatedPod{}
	for _, r := range d.mit.Isolated() {
		st.Isolated = append(st.Isolated, isolatedPod(r))
	}
	st.Counters = map[string]uint64{
		"rule_reloads":       d.reloads.Load(),
		"rule_reload_errors": d.reloadErr.Load(),
		"rule_matches":       d.pipe.matches.Load(),
		"mitigation_dropped": d.pipe.mitigationDrops.Load(),
	}
	for k, v := range probeCounters {
		st.Counters[k] = v
	}
	for k, v := range d.out.Stats() {
		st.Counters[k] = v
	}
	return st
}

var errRunning = errors.New("podguard is already running on this node")

func wrapRunning(detail string) error { return fmt.Errorf("%w (%s)", errRunning, detail) }
