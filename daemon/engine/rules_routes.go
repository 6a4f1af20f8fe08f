package engine

import (
	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

// Other routes to effects the rules judge (issue 14): the clone family's
// namespace flags, the new mount API, device nodes and io_uring.

const (
	nrClone3      = 435
	nrOpenTree    = 428
	openTreeClone = 1
	sIFMT         = 0o170000
	sIFBLK        = 0o060000
	sIFCHR        = 0o020000
)

// mountAPICalls names the new mount API's syscalls on mount events.
var mountAPICalls = map[uint32]string{430: "fsopen", 431: "fsconfig", 428: "open_tree", 433: "fspick", 432: "fsmount", 429: "move_mount"}

// cloneDetails judges clone/clone3: the kernel reports only calls that
// create a namespace, or whose clone_args it could not read (judged as a
// match: the kernel itself read them a moment later).
func cloneDetails(e *probes.Record) (Details, bool) {
	call := "clone"
	if e.Syscall == nrClone3 {
		call = "clone3"
	}
	if e.Flags&probes.FlagUnreadable != 0 {
		return Details{"syscall": call, "flags": "unreadable"}, true
	}
	if e.NSFlags&cloneNewAny == 0 {
		return nil, false
	}
	return Details{"syscall": call, "flags": nsFlags(e.NSFlags & cloneNewAny)}, true
}

// harmlessDevices are the character devices every container already has
// (null, zero, full, random, urandom, tty, ptmx): creating one is no reach
// beyond the container.
var harmlessDevices = map[[2]uint32]bool{{1, 3}: true, {1, 5}: true, {1, 7}: true, {1, 8}: true, {1, 9}: true, {5, 0}: true, {5, 2}: true}

// devMajorMinor splits a dev_t as the kernel encodes it for mknod
// (new_decode_dev).
func devMajorMinor(dev uint32) (uint32, uint32) {
	return (dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00)
}

// routeRules are the rules for routes that have no older rule to join.
var routeRules = []definition{
	{
		Rule: catalog.Rule{
			ID:          "device-node-created",
			Name:        "Device node created in a container",
			Description: "A process in a container created a block or character device node (mknod, mknodat), other than the harmless ones every container has (null, zero, full, random, urandom, tty, ptmx): a handle on the node's disks or memory, the step before reading them raw or mounting them.",
			Tactic:      "TA0004", TacticName: "Privilege Escalation",
			Technique:  "T1611",
			Events:     []string{"mknod"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			if e.Kind != probes.KindMknod {
				return nil, false
			}
			typ := "block"
			switch e.Mode & sIFMT {
			case sIFBLK:
			case sIFCHR:
				typ = "char"
			default: // fifo, socket, regular file
				return nil, false
			}
			major, minor := devMajorMinor(e.Dev)
			if typ == "char" && harmlessDevices[[2]uint32{major, minor}] {
				return nil, false
			}
			return Details{"path": e.Path, "type": typ, "major": major, "minor": minor}, true
		},
	},
	{
		Rule: catalog.Rule{
			ID:          "io-uring-in-container",
			Name:        "io_uring used inside a container",
			Description: "A process in a container set up an io_uring (io_uring_setup) or submitted io_uring writes or file changes. Container runtimes' default seccomp profiles block io_uring, and its operations bypass the system calls that security tools watch: in a pod its use is a way around them. Opens and connects submitted through io_uring are judged by the open and connect rules as well.",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1562.001",
			Events:     []string{"io_uring", "io_uring_op"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			switch e.Kind {
			case probes.KindIOURing:
				return Details{"syscall": "io_uring_setup", "entries": e.Entries, "flags": "0x" + hex(uint64(e.URingFlags))}, true
			case probes.KindURingOp:
				d := Details{"op": uringOpName(e.URingOp), "fd": e.FD}
				if e.Path != "" {
					d["path"] = e.Path
				}
				return d, true
			}
			return nil, false
		},
	},
}

// uringOpName names an io_uring opcode (Record.URingOp is the opcode + 1).
func uringOpName(op uint16) string {
	switch op - 1 {
	case 2:
		return "IORING_OP_WRITEV"
	case 5:
		return "IORING_OP_WRITE_FIXED"
	case 23:
		return "IORING_OP_WRITE"
	case 35:
		return "IORING_OP_RENAMEAT"
	case 36:
		return "IORING_OP_UNLINKAT"
	case 37:
		return "IORING_OP_MKDIRAT"
	case 38:
		return "IORING_OP_SYMLINKAT"
	case 39:
		return "IORING_OP_LINKAT"
	}
	return "opcode " + itoa(uint64(op-1))
}
