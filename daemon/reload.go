package daemon

import (
	"context"
	"errors"
	"os"

	"github.com/podguard/podguard/daemon/config"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/daemon/tomlfile"
)

// follow reloads the config and rules when their files change or on
// SIGHUP, until ctx ends.
func (d *Daemon) follow(ctx context.Context, files *fileChanges, hup <-chan os.Signal) error {
	for {
		select {
		case <-ctx.Done():
			d.log.Info("podguard stopping", "reason", context.Cause(ctx))
			return nil
		case <-hup:
			d.log.Info("SIGHUP: reloading config and rules")
			d.reloadConfig()
			files.sync()
			d.reloadRules("SIGHUP")
		case ev := <-files.changes:
			if ev.config {
				d.reloadConfig()
				files.sync()
			}
			d.reloadRules(ev.reason)
		case err := <-files.errors:
			d.log.Warn("watching files", "err", err)
		}
	}
}

// rulesSource is where cfg says rulesets come from.
func (d *Daemon) rulesSource(cfg *config.Config) rulesets.Source {
	return rulesets.Source{Dir: cfg.RulesDir, Embedded: d.opts.EmbeddedRules}
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
	d.det.RulesChanged()
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
	d.det.SetSettings(detectSettings(cfg)) // dry_run arms or disarms in-kernel kills
	if cfg.API.Socket != old.API.Socket || cfg.StateDir != old.StateDir || cfg.Probes != old.Probes {
		d.log.Warn("api.socket, state_dir and [probes] changes take effect at the next restart")
	}
	d.store.SetSource(d.rulesSource(cfg))
	d.store.SetPolicy(cfg.Policy.Rulesets)
	d.setEnabled(cfg.Enabled)
}
