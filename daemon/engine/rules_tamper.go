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
			Description: "A container touched podguard's binary, config, rules or state (through a host mount: written, truncated, removed, replaced), signalled the podguard process (kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal), detached eBPF programs, or ran tc to delete or replace filters and qdiscs (where isolation lives) or bpftool: trying to switch the guard off.",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1562.001",
			Events:     []string{"open", "unlink", "rename", "truncate", "kill", "bpf", "exec"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			switch e.Kind {
			case probes.KindKill:
				return c.signalsSelf()
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

// signalSyscalls names the signal syscalls on kill events.
var signalSyscalls = map[uint32]string{62: "kill", 200: "tkill", 234: "tgkill", 129: "rt_sigqueueinfo", 297: "rt_tgsigqueueinfo", 424: "pidfd_send_signal"}

// signalsSelf judges a signal sent to podguard by any of the signal
// syscalls: the target (a thread of podguard: tgkill and
// rt_tgsigqueueinfo name its thread group too; pidfd_send_signal's pid is
// the kernel's, behind the pidfd) is podguard's pid. Signal 0 only
// probes.
func (c *Ctx) signalsSelf() (Details, bool) {
	e := c.Ev
	if c.self.PID == 0 || e.Signal == 0 {
		return nil, false
	}
	if uint32(e.TargetPID) != c.self.PID && (e.TGIDArg == 0 || uint32(e.TGIDArg) != c.self.PID) {
		return nil, false
	}
	d := Details{"target_pid": e.TargetPID, "signal": e.Signal}
	if n, ok := signalSyscalls[e.Syscall]; ok {
		d["syscall"] = n
	}
	return d, true
}
