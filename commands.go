package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/config"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/probes"
	"golang.org/x/sys/unix"
)

func asJSON(fl *flag.FlagSet) bool {
	f := fl.Lookup("json")
	return f != nil && f.Value.String() == "true"
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func cmdValidate(_ context.Context, fl *flag.FlagSet, configPath string) error {
	paths := fl.Args()
	if len(paths) == 0 {
		cfg, err := config.Load(configPath)
		if err != nil {
			return err
		}
		if _, err := os.Stat(cfg.RulesDir); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "rules directory %s does not exist: podguard uses its built-in rulesets (`podguard rules` lists the managed rules)\n", cfg.RulesDir)
			return nil
		}
		paths = []string{cfg.RulesDir}
	}
	n, probs := rulesets.Validate(paths)
	if len(probs) == 0 {
		fmt.Printf("ok: %d ruleset file(s) valid\n", n)
		return nil
	}
	for _, p := range probs {
		fmt.Println(p.Error())
	}
	fmt.Fprintf(os.Stderr, "%d problem(s) in %d file(s) checked\n", len(probs), n)
	return exitError(1)
}

func cmdRules(_ context.Context, fl *flag.FlagSet, _ string) error {
	all := catalog.All()
	if asJSON(fl) {
		return printJSON(all)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTACTIC\tTECHNIQUE\tEVENTS\tSUGGESTED\tNAME")
	for _, r := range all {
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\n", r.ID, r.Tactic, r.TacticName, r.Technique, strings.Join(r.Events, ","), r.Mitigation, r.Name)
	}
	return tw.Flush()
}

func cmdStatus(ctx context.Context, fl *flag.FlagSet, configPath string) error {
	cfg, err := config.LoadForClient(configPath)
	if cfg == nil {
		return err
	}
	st, err := api.NewClient(cfg.API.Socket).Status(ctx)
	if err != nil {
		return err
	}
	if asJSON(fl) {
		return printJSON(st)
	}
	printStatus(st)
	return nil
}

func printStatus(st api.Status) {
	onOff := map[bool]string{true: "yes", false: "NO (enabled = false: no detection, no mitigation)"}
	cfgFile := st.Config.File
	if cfgFile == "" {
		cfgFile = "built-in defaults"
	}
	fmt.Printf("podguard %s, pid %d, up since %s\n", st.Version, st.PID, st.Started.Format("2006-01-02 15:04:05 MST"))
	fmt.Printf("node:     %s", st.Node)
	if st.Cluster != "" {
		fmt.Printf(" (cluster %s)", st.Cluster)
	}
	fmt.Println()
	fmt.Printf("enabled:  %s\n", onOff[st.Enabled])
	if st.DryRun {
		fmt.Println("dry run:  yes (mitigations are reported, not applied)")
	}
	fmt.Printf("config:   %s [%s]\n", cfgFile, st.Config.State)
	if st.Metrics != "" {
		fmt.Printf("metrics:  http://%s/metrics\n", st.Metrics)
	}
	for _, p := range st.Config.Problems {
		fmt.Printf("          %s\n", p.Error())
	}
	fmt.Printf("probes:   %d attached, %d container cgroup(s) watched", len(st.Probes.Attached), st.Probes.Watched)
	if st.Probes.Error != "" {
		fmt.Printf(" — ERROR: %s", st.Probes.Error)
	}
	if st.Probes.Note != "" {
		fmt.Printf(" — %s", st.Probes.Note)
	}
	fmt.Println()
	if st.Probes.Transport != "" {
		fmt.Printf("          events through the %s", st.Probes.Transport)
		if st.Probes.SyscallHook != "" {
			fmt.Printf("; syscalls hooked by %s", st.Probes.SyscallHook)
		}
		fmt.Println()
	}
	for kind, d := range st.Probes.Drops {
		fmt.Printf("          lost %s events: %d in the kernel buffer, %d in the queue\n", kind, d.Ring, d.Queue)
	}
	if n := st.Counters["kernel_lost_unattributed"]; n > 0 {
		fmt.Printf("          lost %d events of unknown kind in the kernel (perf buffer overruns, probe runs the kernel skipped)\n", n)
	}
	c := st.Containerd
	conn := "connected"
	if !c.Connected {
		conn = "NOT connected"
		if c.LastError != "" {
			conn += " (" + c.LastError + ")"
		}
	}
	fmt.Printf("containerd: %s %s, namespace %s; %d pod(s), %d container(s) watched; cgroups %s\n", c.Address, conn, c.Namespace, c.Pods, c.Containers, c.CgroupMode)
	if len(st.Isolated) > 0 {
		fmt.Println("isolated pods:")
		for _, p := range st.Isolated {
			fmt.Printf("  %s (uid %s) by rule %s since %s [%s %s]\n", p.Pod, p.UID, p.Rule, p.Since.Format(time.RFC3339), p.Mode, p.HostIf)
		}
	}
	fmt.Printf("rules:    from %s, generation %d, %d ruleset(s) in force\n", st.Rules.Source, st.Rules.Generation, len(st.Rules.Active))
	if st.Rules.Note != "" {
		fmt.Printf("          %s\n", st.Rules.Note)
	}
	for _, n := range st.Rules.MissingPolicy {
		fmt.Printf("          [policy] names %q but no file defines it\n", n)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nFILE\tRULESET\tSTATE\tDETAIL")
	for _, f := range st.Rules.Files {
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
	fmt.Println("\ncounters:")
	for _, k := range sortedKeys(st.Counters) {
		fmt.Printf("  %-28s %d\n", k, st.Counters[k])
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func cmdKernel(_ context.Context, fl *flag.FlagSet, _ string) error {
	feats := probes.ProbeFeatures()
	if asJSON(fl) {
		return printJSON(feats)
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	fmt.Printf("kernel %s\n\n", unix.ByteSliceToString(uts.Release[:]))
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tPRESENT\tDETAIL\tWITHOUT IT")
	missingRequired := false
	for _, f := range feats {
		present := "yes"
		if !f.Present {
			present = "NO"
			missingRequired = missingRequired || f.Fallback == ""
		}
		fallback := f.Fallback
		if fallback == "" {
			fallback = "(required)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, present, f.Detail, fallback)
	}
	tw.Flush()
	if missingRequired {
		return fmt.Errorf("a required kernel feature is missing: podguard cannot run here")
	}
	return nil
}
