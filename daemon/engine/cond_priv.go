package engine

import (
	"strconv"
	"strings"

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

var privConditions = map[string]condition{
	"ptrace-injection": func(c *Ctx) (Details, bool) {
		e := c.Ev
		switch e.Kind {
		case probes.KindPtrace:
			switch e.Request {
			case ptraceAttach, ptraceSeize, ptracePokeText, ptracePokeData, ptracePokeUser, ptraceSetRegs:
				if c.is(debuggers) && e.Flags&probes.FlagKilled == 0 {
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
	"kernel-module-load": func(c *Ctx) (Details, bool) {
		e := c.Ev
		if e.Kind != probes.KindModule {
			return nil, false
		}
		if e.ModuleLen > 0 {
			return Details{"syscall": "init_module", "length": e.ModuleLen}, true
		}
		return Details{"syscall": "finit_module", "fd": e.ModuleFD}, true
	},
	"bpf-program-load": func(c *Ctx) (Details, bool) {
		e := c.Ev
		if e.Kind != probes.KindBPF || (e.Cmd != bpfProgLoad && e.Cmd != bpfProgAttach && e.Cmd != bpfLinkCreate) {
			return nil, false
		}
		return Details{"cmd": bpfCmd(e.Cmd)}, true
	},
	"namespace-escape": func(c *Ctx) (Details, bool) {
		e := c.Ev
		switch e.Kind {
		case probes.KindSetns:
			return Details{"syscall": "setns", "nstype": nsFlags(e.NSFlags)}, true
		case probes.KindUnshare:
			if e.NSFlags&cloneNewAny != 0 {
				return Details{"syscall": "unshare", "flags": nsFlags(e.NSFlags)}, true
			}
		case probes.KindExec:
			if c.is(set("nsenter", "unshare")) {
				return Details{"args": c.Proc.Args}, true
			}
		}
		return nil, false
	},
	"mount-in-container": func(c *Ctx) (Details, bool) {
		e := c.Ev
		if e.Kind != probes.KindMount {
			return nil, false
		}
		if kernelFS[e.FSType] || strings.HasPrefix(e.Source, "/dev/") {
			return Details{"source": e.Source, "target": e.Target, "fstype": e.FSType}, true
		}
		return nil, false
	},
	"privilege-raise-to-root": func(c *Ctx) (Details, bool) {
		e := c.Ev
		if e.Kind != probes.KindSetID || e.UID == 0 || c.is(idTools) {
			return nil, false
		}
		for _, id := range e.IDs {
			if id == 0 {
				return Details{"uid": e.UID, "requested": e.IDs}, true
			}
		}
		return nil, false
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
