package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/config"
	"github.com/podguard/podguard/daemon/rulesets"
)

// cmdStatus asks the running daemon for its status.
func cmdStatus(ctx context.Context, c *call) error {
	cfg, err := config.LoadForClient(c.config)
	if cfg == nil {
		return err
	}
	st, err := api.NewClient(cfg.API.Socket).Status(ctx)
	if err != nil {
		return err
	}
	if c.asJSON() {
		return c.printJSON(st)
	}
	c.printStatus(st)
	return nil
}

func (c *call) printStatus(st api.Status) {
	w := c.Stdout
	onOff := map[bool]string{true: "yes", false: "NO (enabled = false: no detection, no mitigation)"}
	cfgFile := st.Config.File
	if cfgFile == "" {
		cfgFile = "built-in defaults"
	}
	fmt.Fprintf(w, "podguard %s, pid %d, up since %s\n", st.Version, st.PID, st.Started.Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintf(w, "node:     %s", st.Node)
	if st.Cluster != "" {
		fmt.Fprintf(w, " (cluster %s)", st.Cluster)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "enabled:  %s\n", onOff[st.Enabled])
	if st.DryRun {
		fmt.Fprintln(w, "dry run:  yes (mitigations are reported, not applied)")
	}
	fmt.Fprintf(w, "config:   %s [%s]\n", cfgFile, st.Config.State)
	if st.Metrics != "" {
		fmt.Fprintf(w, "metrics:  http://%s/metrics\n", st.Metrics)
	}
	for _, p := range st.Config.Problems {
		fmt.Fprintf(w, "          %s\n", p.Error())
	}
	if m := st.Memory; m.Limit > 0 {
		warn := ""
		if m.Near {
			warn = "  NEAR THE LIMIT: raise MemoryMax or find the cause"
		}
		fmt.Fprintf(w, "memory:   %d MiB of %d MiB (the unit's MemoryMax)%s\n", m.Usage>>20, m.Limit>>20, warn)
	} else if m.Usage > 0 {
		fmt.Fprintf(w, "memory:   %d MiB, no limit\n", m.Usage>>20)
	}
	printProbes(w, st)
	printContainerd(w, st)
	c.printRules(st.Rules)
	fmt.Fprintln(w, "\ncounters:")
	for _, k := range slices.Sorted(maps.Keys(st.Counters)) {
		fmt.Fprintf(w, "  %-28s %d\n", k, st.Counters[k])
	}
}

func printProbes(w io.Writer, st api.Status) {
	fmt.Fprintf(w, "probes:   %d attached, %d container cgroup(s) watched", len(st.Probes.Attached), st.Probes.Watched)
	if st.Probes.Error != "" {
		fmt.Fprintf(w, " — ERROR: %s", st.Probes.Error)
	}
	if st.Probes.Note != "" {
		fmt.Fprintf(w, " — %s", st.Probes.Note)
	}
	fmt.Fprintln(w)
	if st.Probes.Transport != "" {
		fmt.Fprintf(w, "          events through the %s", st.Probes.Transport)
		if st.Probes.SyscallHook != "" {
			fmt.Fprintf(w, "; syscalls hooked by %s", st.Probes.SyscallHook)
		}
		fmt.Fprintln(w)
	}
	if st.Probes.HookSet != "" {
		fmt.Fprintf(w, "          opens and connects judged by %s (%s)\n", hookSetName(st.Probes.HookSet), st.Probes.HookSetReason)
	}
	for kind, d := range st.Probes.Drops {
		fmt.Fprintf(w, "          lost %s events: %d in the kernel buffer, %d beyond the pod's fair share, %d in the queue\n", kind, d.Ring, d.Share, d.Queue)
	}
	for _, kind := range slices.Sorted(maps.Keys(st.Probes.Unreadable)) {
		fmt.Fprintf(w, "          %d %s events with an argument the kernel could not read (reported, marked unreadable)\n", st.Probes.Unreadable[kind], kind)
	}
	if n := st.Counters["kernel_lost_unattributed"]; n > 0 {
		fmt.Fprintf(w, "          lost %d events of unknown kind in the kernel (perf buffer overruns, probe runs the kernel skipped)\n", n)
	}
}

func printContainerd(w io.Writer, st api.Status) {
	c := st.Containerd
	conn := "connected"
	if !c.Connected {
		conn = "NOT connected"
		if c.LastError != "" {
			conn += " (" + c.LastError + ")"
		}
	}
	fmt.Fprintf(w, "containerd: %s %s, namespace %s; %d pod(s), %d container(s) watched; cgroups %s\n", c.Address, conn, c.Namespace, c.Pods, c.Containers, c.CgroupMode)
	if len(st.Isolated) > 0 {
		fmt.Fprintln(w, "isolated pods:")
		for _, p := range st.Isolated {
			fmt.Fprintf(w, "  %s (uid %s) by rule %s since %s [%s %s]\n", p.Pod, p.UID, p.Rule, p.Since.Format(time.RFC3339), p.Mode, p.HostIf)
		}
	}
	if len(st.RejectedState) > 0 {
		fmt.Fprintln(w, "ignored isolation records (integrity check failed: not written by this node's podguard):")
		for _, p := range st.RejectedState {
			fmt.Fprintf(w, "  %s (uid %s) [%s %s]\n", printable(p.Pod), printable(p.UID), printable(string(p.Mode)), printable(p.HostIf))
		}
	}
}

func (c *call) printRules(r api.RulesStatus) {
	w := c.Stdout
	fmt.Fprintf(w, "rules:    from %s, generation %d, %d ruleset(s) in force\n", r.Source, r.Generation, len(r.Active))
	if r.Note != "" {
		fmt.Fprintf(w, "          %s\n", r.Note)
	}
	for _, n := range r.MissingPolicy {
		fmt.Fprintf(w, "          [policy] names %q but no file defines it\n", n)
	}
	tw := c.table()
	fmt.Fprintln(tw, "\nFILE\tRULESET\tSTATE\tDETAIL")
	for _, f := range r.Files {
		detail := ""
		switch {
		case f.State == rulesets.StateError && f.LastGood:
			detail = "last good version still enforcing"
		case f.State == rulesets.StateError:
			detail = "nothing from this file is enforcing"
		case !f.InPolicy:
			detail = "not in [policy] rulesets: inactive"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.File, orDash(f.Name), f.State, detail)
		for _, p := range f.Problems {
			fmt.Fprintf(tw, "\t\t\t%s\n", p.Error())
		}
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
