package engine

import (
	"path"
	"strings"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

// Self describes podguard itself, for the tamper rule.
type Self struct {
	PID uint32
	// Paths are podguard's own files and directories (binary, config,
	// rules, state, API socket directory). A container reaches them only
	// through a host mount, under some prefix: they are matched as path
	// suffixes.
	Paths []string
}

// touchesSelf reports whether p is, or is below, one of podguard's paths
// as seen through a host mount at any prefix.
func (s *Self) touchesSelf(p string) bool {
	for _, own := range s.Paths {
		own = strings.TrimSuffix(own, "/")
		if own == "" || own == "/" {
			continue
		}
		if strings.HasSuffix(p, own) || strings.Contains(p, own+"/") {
			return true
		}
	}
	return path.Base(p) == "podguard" || path.Base(p) == "podguard.service"
}

// tamperRules guard podguard itself.
var tamperRules = []definition{
	{
		Rule: catalog.Rule{
			ID:          "podguard-tamper",
			Name:        "Attempt to stop or weaken podguard",
			Description: "A container touched podguard's binary, config, rules or state (through a host mount), signalled the podguard process, detached eBPF programs, or ran tc to delete or replace filters and qdiscs (where isolation lives) or bpftool: trying to switch the guard off.",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1562.001",
			Events:     []string{"open", "unlink", "rename", "kill", "bpf", "exec"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			switch e.Kind {
			case probes.KindKill:
				if c.self.PID != 0 && uint32(e.TargetPID) == c.self.PID && e.Signal != 0 {
					return Details{"target_pid": e.TargetPID, "signal": e.Signal}, true
				}
			case probes.KindBPF:
				if e.Cmd == bpfProgDetach || e.Cmd == bpfLinkDetach {
					return Details{"cmd": bpfCmd(e.Cmd)}, true
				}
			case probes.KindExec:
				// Tools that remove or replace tc filters and BPF programs
				// (podguard's isolation lives there).
				if c.is(set("bpftool")) {
					return Details{"args": c.Proc.Args}, true
				}
				if c.is(set("tc")) {
					_, filters := c.argsContain("filter", "qdisc", "clsact")
					_, change := c.argsContain("del", "replace", "change", "flush")
					if filters && change {
						return Details{"args": c.Proc.Args}, true
					}
				}
			default:
				if ch, ok := c.changedMatching(c.self.touchesSelf); ok {
					return ch.details(), true
				}
			}
			return nil, false
		},
		// opens matter only when they write (changedMatching), wherever
		// podguard's paths are mounted
		open: &OpenInterest{Writes: true},
	},
}
