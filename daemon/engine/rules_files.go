package engine

import (
	"path"
	"strconv"
	"strings"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

// fileRules judge the other file changes: covering tracks, new executables
// and setuid bits, and the files through which the host can be made to
// run a program.
var fileRules = []definition{
	{
		Rule: catalog.Rule{
			ID:          "new-executable-in-container",
			Name:        "Drift: executable file created in a container",
			Description: "A file was created with an execute bit, or made executable with chmod, inside a running container: the step before running a tool that is not in the image.",
			Tactic:      "TA0011", TacticName: "Command and Control",
			Technique:  "T1105",
			Events:     []string{"open", "chmod"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			switch {
			case e.Kind == probes.KindOpen && !e.Attempt() && e.FileFlags&oCreat != 0 && e.Mode&0o111 != 0:
				return Details{"path": e.Path, "mode": modeString(e.Mode), "operation": "create"}, !c.underPackageManager()
			case e.Kind == probes.KindChmod && e.Mode&0o111 != 0 && !strings.HasPrefix(e.Path, "/proc/") && !strings.HasPrefix(e.Path, "/dev/"):
				return Details{"path": e.Path, "mode": modeString(e.Mode), "operation": "chmod"}, !c.underPackageManager()
			}
			return nil, false
		},
		open: &OpenInterest{Writes: true}, // O_CREAT
	},
	{
		Rule: catalog.Rule{
			ID:          "clear-logs",
			Name:        "Log files truncated or removed",
			Description: "A file under /var/log was truncated, deleted, renamed or replaced by a symlink inside a container: covering tracks.",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1070.002",
			Events:     []string{"open", "unlink", "rename", "symlink", "truncate"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			ch, ok := c.destructive(func(p string) bool { return strings.HasPrefix(p, "/var/log/") })
			return ch.details(), ok
		},
		open: &OpenInterest{Writes: true}, // O_TRUNC
	},
	{
		Rule: catalog.Rule{
			ID:          "clear-history",
			Name:        "Shell history cleared",
			Description: "A shell history file (.bash_history, .zsh_history, *_history) was truncated, deleted, renamed or linked to /dev/null.",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1070.003",
			Events:     []string{"open", "unlink", "rename", "symlink", "truncate"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			ch, ok := c.destructive(func(p string) bool { return strings.HasSuffix(path.Base(p), "_history") })
			return ch.details(), ok
		},
		open: &OpenInterest{Writes: true}, // O_TRUNC
	},
	{
		Rule: catalog.Rule{
			ID:          "dynamic-linker-hijack",
			Name:        "Dynamic linker preload configured",
			Description: "/etc/ld.so.preload or /etc/ld.so.conf* was written or replaced, making every program load an attacker's library.",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1574.006",
			Events:     []string{"open", "rename", "link", "symlink"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			ch, ok := c.changedMatching(func(p string) bool {
				return p == "/etc/ld.so.preload" || strings.HasPrefix(p, "/etc/ld.so.conf")
			})
			return ch.details(), ok
		},
		open: &OpenInterest{Writes: true},
	},
	{
		Rule: catalog.Rule{
			ID:          "setuid-bit-set",
			Name:        "Setuid or setgid bit set",
			Description: "A file was given the setuid or setgid bit inside a container: a backdoor that runs as its owner.",
			Tactic:      "TA0004", TacticName: "Privilege Escalation",
			Technique:  "T1548.001",
			Events:     []string{"chmod"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			if e.Kind != probes.KindChmod || e.Mode&0o6000 == 0 || c.underPackageManager() {
				return nil, false
			}
			return Details{"path": e.Path, "mode": modeString(e.Mode)}, true
		},
	},
	{
		Rule: catalog.Rule{
			ID:          "cgroup-release-agent",
			Name:        "cgroup release_agent or notify_on_release written",
			Description: "A cgroup's release_agent or notify_on_release file was written: the classic container escape that makes the host run a program.",
			Tactic:      "TA0004", TacticName: "Privilege Escalation",
			Technique:  "T1611",
			Events:     []string{"open", "rename"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			ch, ok := c.changedMatching(func(p string) bool {
				b := path.Base(p)
				return b == "release_agent" || b == "notify_on_release"
			})
			if !ok || c.Ev.Kind == probes.KindChmod {
				return nil, false
			}
			return ch.details(), true
		},
		open: &OpenInterest{Writes: true},
	},
	{
		Rule: catalog.Rule{
			ID:          "kernel-hook-tamper",
			Name:        "Kernel call-out file written",
			Description: "A kernel call-out was written (/proc/sys/kernel/core_pattern, modprobe, sysrq, /proc/sysrq-trigger, /sys/kernel/uevent_helper, binfmt_misc register): ways to make the host kernel run a program.",
			Tactic:      "TA0004", TacticName: "Privilege Escalation",
			Technique:  "T1611",
			Events:     []string{"open"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			p, w, ok := c.opened()
			if !ok || !w {
				return nil, false
			}
			switch p {
			case "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sys/kernel/sysrq", "/proc/sysrq-trigger",
				"/sys/kernel/uevent_helper", "/proc/sys/fs/binfmt_misc/register", "/proc/sys/kernel/hotplug":
				return Details{"path": p}, true
			}
			return nil, false
		},
		open: &OpenInterest{Writes: true},
	},
	{
		Rule: catalog.Rule{
			ID:          "runtime-binary-overwrite",
			Name:        "Container runtime binary opened for writing",
			Description: "/proc/self/exe or /proc/<pid>/exe was opened for writing: the runc overwrite escape (CVE-2019-5736).",
			Tactic:      "TA0004", TacticName: "Privilege Escalation",
			Technique:  "T1611",
			Events:     []string{"open"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			// the resolved path of /proc/<pid>/exe is the binary itself:
			// judge the path as written (cleaned) too, and the attempt
			// (ETXTBSY while the binary runs)
			p, w, ok := c.openedOrTried()
			if !ok || !w || c.isPrefixed("runc") {
				return nil, false
			}
			for _, q := range []string{p, cleanRaw(c.Ev)} {
				if m := procPidFile.FindStringSubmatch(q); m != nil && m[2] == "exe" {
					return c.openDetails(q), true
				}
			}
			return nil, false
		},
		open: &OpenInterest{Writes: true},
	},
}

// destructive matches truncation, removal, renaming away or symlinking
// over a path that match accepts.
func (c *Ctx) destructive(match func(string) bool) (change, bool) {
	e := c.Ev
	switch e.Kind {
	case probes.KindOpen:
		if e.FileFlags&oTrunc != 0 && !e.Attempt() && match(e.Path) {
			return change{e.Path, "truncate"}, true
		}
	case probes.KindTruncate: // truncate/ftruncate, the route besides O_TRUNC
		if match(e.Path) {
			return change{e.Path, "truncate"}, true
		}
	case probes.KindUnlink:
		if match(e.Path) {
			return change{e.Path, "unlink"}, true
		}
	case probes.KindRename:
		if match(e.Path) {
			return change{e.Path, "rename"}, true
		}
	case probes.KindSymlink:
		if match(e.Path2) {
			return change{e.Path2, "symlink to " + e.Path}, true
		}
	}
	return change{}, false
}

// cleanRaw is an event's raw path, lexically cleaned when absolute.
func cleanRaw(e *probes.Record) string {
	if !strings.HasPrefix(e.RawPath, "/") {
		return ""
	}
	return path.Clean(e.RawPath)
}

func modeString(m uint32) string { return "0" + strconv.FormatUint(uint64(m&0o7777), 8) }
