package engine

import (
	"strconv"
	"strings"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

const (
	cloneNewNS     = 0x00020000
	cloneNewCgroup = 0x02000000
	cloneNewUTS    = 0x04000000
	cloneNewIPC    = 0x08000000
	cloneNewUser   = 0x10000000
	cloneNewPID    = 0x20000000
	cloneNewNet    = 0x40000000
	cloneNewTime   = 0x00000080
	cloneNewAny    = cloneNewNS | cloneNewCgroup | cloneNewUTS | cloneNewIPC | cloneNewUser | cloneNewPID | cloneNewNet | cloneNewTime

	ptraceAttach   = 16
	ptraceSeize    = 0x4206
	ptracePokeText = 4
	ptracePokeData = 5
	ptracePokeUser = 6
	ptraceSetRegs  = 13

	bpfProgLoad   = 5
	bpfProgAttach = 8
	bpfProgDetach = 9
	bpfLinkCreate = 28
	bpfLinkDetach = 34
)

var (
	kernelFS  = set("proc", "sysfs", "cgroup", "cgroup2", "debugfs", "securityfs", "bpf", "tracefs", "configfs", "devtmpfs")
	debuggers = set("gdb", "strace", "ltrace", "dlv", "lldb")
	idTools   = set("sudo", "su", "newgrp", "passwd", "sg", "login", "doas")
)

// privRules judge the system calls that reach beyond the container:
// injection, kernel modules and eBPF, namespaces, mounts, setuid.
var privRules = []definition{
	{
		Rule: catalog.Rule{
			ID:          "ptrace-injection",
			Name:        "Process injection through ptrace or process_vm_writev",
			Description: "A process attached to another (PTRACE_ATTACH, PTRACE_SEIZE) or wrote into its memory or registers (POKETEXT, POKEDATA, SETREGS, process_vm_writev): how code is injected into a running program. Debuggers (gdb, strace, dlv) attaching are left alone.",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1055.008",
			Events:     []string{"ptrace", "process_vm_writev"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			switch e.Kind {
			case probes.KindPtrace:
				switch e.Request {
				case ptraceAttach, ptraceSeize, ptracePokeText, ptracePokeData, ptracePokeUser, ptraceSetRegs:
					if c.exempt(debuggers) && e.Flags&probes.FlagKilled == 0 {
						return nil, false
					}
					return Details{"request": ptraceRequest(e.Request), "target_pid": e.TargetPID}, true
				}
			case probes.KindVMWrite:
				if e.TargetPID != int32(e.TGID) && e.TargetPID != 0 && e.TargetPID != int32(c.Proc.NSPID()) {
					return Details{"syscall": "process_vm_writev", "target_pid": e.TargetPID}, true
				}
			}
			return nil, false
		},
		kill: probes.KillPtrace,
	},
	{
		Rule: catalog.Rule{
			ID:          "kernel-module-load",
			Name:        "Kernel module load from a container",
			Description: "A container tried to load a kernel module (init_module or finit_module). Containers never need this; it is a way to take over the node. Decided in the kernel, including on kernels without module support where the syscall has no tracepoint of its own.",
			Tactic:      "TA0003", TacticName: "Persistence",
			Technique:  "T1547.006",
			Events:     []string{"module_load"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			if e.Kind != probes.KindModule {
				return nil, false
			}
			if e.ModuleLen > 0 {
				return Details{"syscall": "init_module", "length": e.ModuleLen}, true
			}
			return Details{"syscall": "finit_module", "fd": e.ModuleFD}, true
		},
		kill: probes.KillModuleLoad,
	},
	{
		Rule: catalog.Rule{
			ID:          "bpf-program-load",
			Name:        "eBPF program loaded from a container",
			Description: "A container loaded or attached an eBPF program (BPF_PROG_LOAD, BPF_PROG_ATTACH, BPF_LINK_CREATE). Only node agents do this; from a workload it is a rootkit technique.",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1014",
			Events:     []string{"bpf"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			if e.Kind != probes.KindBPF || (e.Cmd != bpfProgLoad && e.Cmd != bpfProgAttach && e.Cmd != bpfLinkCreate) {
				return nil, false
			}
			return Details{"cmd": bpfCmd(e.Cmd)}, true
		},
	},
	{
		Rule: catalog.Rule{
			ID:          "namespace-escape",
			Name:        "Namespace change inside a running container",
			Description: "A process in a running container called setns, or unshare, clone or clone3 with new user, mount, network, pid, cgroup, ipc, uts or time namespaces (a clone3 whose arguments the kernel could not read counts too), or ran nsenter or unshare: steps toward escaping onto the node. Decided in the kernel.",
			Tactic:      "TA0004", TacticName: "Privilege Escalation",
			Technique:  "T1611",
			Events:     []string{"setns", "unshare", "clone", "exec"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			switch e.Kind {
			case probes.KindSetns:
				return Details{"syscall": "setns", "nstype": nsFlags(e.NSFlags)}, true
			case probes.KindUnshare:
				if e.NSFlags&cloneNewAny != 0 {
					return Details{"syscall": "unshare", "flags": nsFlags(e.NSFlags)}, true
				}
			case probes.KindClone:
				return cloneDetails(e)
			case probes.KindExec:
				if c.is(set("nsenter", "unshare")) {
					return Details{"args": c.Proc.Args}, true
				}
			}
			return nil, false
		},
		kill: probes.KillNamespace,
	},
	{
		Rule: catalog.Rule{
			ID:          "mount-in-container",
			Name:        "Mount inside a running container",
			Description: "A running container mounted a block device or a kernel file system (proc, sysfs, cgroup, debugfs, securityfs, bpf): reaching the host's disks or kernel interfaces. The new mount API counts the same: fsopen of such a file system, fsconfig with a device as source, open_tree cloning a device's mount.",
			Tactic:      "TA0004", TacticName: "Privilege Escalation",
			Technique:  "T1611",
			Events:     []string{"mount"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			if e.Kind != probes.KindMount || (e.Syscall == nrOpenTree && e.MountFlags&openTreeClone == 0) {
				return nil, false // open_tree without OPEN_TREE_CLONE only opens a path
			}
			if kernelFS[e.FSType] || strings.HasPrefix(e.Source, "/dev/") {
				d := Details{"source": e.Source, "target": e.Target, "fstype": e.FSType}
				if n, ok := mountAPICalls[e.Syscall]; ok {
					d["syscall"] = n
				}
				return d, true
			}
			return nil, false
		},
	},
	{
		Rule: catalog.Rule{
			ID:          "privilege-raise-to-root",
			Name:        "Non-root process switching to root",
			Description: "A process running as a non-root user asked to become root with setuid, setreuid, setresuid, setgid or their relatives, outside sudo, su, newgrp and passwd.",
			Tactic:      "TA0004", TacticName: "Privilege Escalation",
			Technique:  "T1548.001",
			Events:     []string{"setid"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			if e.Kind != probes.KindSetID || e.UID == 0 || c.exempt(idTools) {
				return nil, false
			}
			for _, id := range e.IDs {
				if id == 0 {
					return Details{"uid": e.UID, "requested": e.IDs}, true
				}
			}
			return nil, false
		},
	},
}

func ptraceRequest(r uint64) string {
	switch r {
	case ptraceAttach:
		return "PTRACE_ATTACH"
	case ptraceSeize:
		return "PTRACE_SEIZE"
	case ptracePokeText:
		return "PTRACE_POKETEXT"
	case ptracePokeData:
		return "PTRACE_POKEDATA"
	case ptracePokeUser:
		return "PTRACE_POKEUSER"
	case ptraceSetRegs:
		return "PTRACE_SETREGS"
	}
	return "request " + itoa(r)
}

func bpfCmd(c uint64) string {
	switch c {
	case bpfProgLoad:
		return "BPF_PROG_LOAD"
	case bpfProgAttach:
		return "BPF_PROG_ATTACH"
	case bpfProgDetach:
		return "BPF_PROG_DETACH"
	case bpfLinkCreate:
		return "BPF_LINK_CREATE"
	case bpfLinkDetach:
		return "BPF_LINK_DETACH"
	}
	return "cmd " + itoa(c)
}

func nsFlags(f uint64) string {
	names := []struct {
		bit  uint64
		name string
	}{{cloneNewNS, "CLONE_NEWNS"}, {cloneNewCgroup, "CLONE_NEWCGROUP"}, {cloneNewUTS, "CLONE_NEWUTS"}, {cloneNewIPC, "CLONE_NEWIPC"},
		{cloneNewUser, "CLONE_NEWUSER"}, {cloneNewPID, "CLONE_NEWPID"}, {cloneNewNet, "CLONE_NEWNET"}, {cloneNewTime, "CLONE_NEWTIME"}}
	var out []string
	for _, n := range names {
		if f&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	if len(out) == 0 {
		return "0x" + strings.ToLower(hex(f))
	}
	return strings.Join(out, "|")
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

func hex(v uint64) string { return strconv.FormatUint(v, 16) }
