package probes

import "strings"

// Kind is the type of a kernel event. Values match the BPF side
// (bpf/common.h enum event_kind) and are stable.
type Kind uint16

// Event kinds.
const (
	KindExec     Kind = 1  // execve/execveat completed (sched_process_exec)
	KindFork     Kind = 2  // a new process (not thread) was created
	KindExit     Kind = 3  // a process (thread group leader) exited
	KindOpen     Kind = 4  // open, openat, openat2, creat
	KindUnlink   Kind = 5  // unlink, unlinkat, rmdir
	KindRename   Kind = 6  // rename, renameat, renameat2
	KindLink     Kind = 7  // link, linkat
	KindSymlink  Kind = 8  // symlink, symlinkat
	KindChmod    Kind = 9  // chmod, fchmod, fchmodat, fchmodat2
	KindMkdir    Kind = 10 // mkdir, mkdirat
	KindConnect  Kind = 11 // connect
	KindSocket   Kind = 12 // socket
	KindDup      Kind = 13 // dup2/dup3 onto fd 0, 1 or 2
	KindPtrace   Kind = 14 // ptrace
	KindVMWrite  Kind = 15 // process_vm_writev
	KindModule   Kind = 16 // init_module, finit_module
	KindBPF      Kind = 17 // bpf
	KindMount    Kind = 18 // mount, fsmount, move_mount
	KindUmount   Kind = 19 // umount2
	KindUnshare  Kind = 20 // unshare
	KindSetns    Kind = 21 // setns
	KindSetID    Kind = 22 // setuid, setgid, setre*, setres*, setfs*
	KindMemfd    Kind = 23 // memfd_create
	KindKill     Kind = 24 // kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal
	KindClone    Kind = 25 // clone/clone3 creating a namespace (or with unreadable clone_args)
	KindMknod    Kind = 26 // mknod, mknodat
	KindTruncate Kind = 27 // truncate, ftruncate
	KindIOURing  Kind = 28 // io_uring_setup
	KindURingOp  Kind = 29 // an io_uring write or file change (opens and connects decode as KindOpen/KindConnect)
	// KindEventsLost is made by the reader, not at a hook: the kernel
	// lost events of one watched container (Record.Lost).
	KindEventsLost Kind = 38
	kindLimit      Kind = 39
	maxKindSlots        = 64 // size of the per-kind counter maps
)

var kindNames = [...]string{
	KindExec: "exec", KindFork: "fork", KindExit: "exit", KindOpen: "open",
	KindUnlink: "unlink", KindRename: "rename", KindLink: "link",
	KindSymlink: "symlink", KindChmod: "chmod", KindMkdir: "mkdir",
	KindConnect: "connect", KindSocket: "socket", KindDup: "dup",
	KindPtrace: "ptrace", KindVMWrite: "process_vm_writev",
	KindModule: "module_load", KindBPF: "bpf", KindMount: "mount",
	KindUmount: "umount", KindUnshare: "unshare", KindSetns: "setns",
	KindSetID: "setid", KindMemfd: "memfd_create", KindKill: "kill",
	KindClone: "clone", KindMknod: "mknod", KindTruncate: "truncate",
	KindIOURing: "io_uring", KindURingOp: "io_uring_op",
	KindEventsLost: "events_lost",
}

func (k Kind) String() string {
	if k > 0 && k < kindLimit && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + itoa(uint64(k)) + ")"
}

// ParseKind returns the kind named s (as printed by String).
func ParseKind(s string) (Kind, bool) {
	for k := Kind(1); k < kindLimit; k++ {
		if kindNames[k] == s && s != "" {
			return k, true
		}
	}
	return 0, false
}

// Kinds lists every event kind in wire order.
func Kinds() []Kind {
	ks := make([]Kind, 0, kindLimit-1)
	for k := Kind(1); k < kindLimit; k++ {
		if kindNames[k] != "" {
			ks = append(ks, k)
		}
	}
	return ks
}

// KindSet is a set of kinds, the mask the kernel checks per cgroup.
type KindSet uint64

// AllKinds contains every kind.
const AllKinds KindSet = (1<<kindLimit - 1) &^ 1

// KindsOf returns the set holding ks.
func KindsOf(ks ...Kind) KindSet {
	var s KindSet
	for _, k := range ks {
		s |= 1 << k
	}
	return s
}

// Has reports whether k is in s.
func (s KindSet) Has(k Kind) bool { return k < 64 && s&(1<<k) != 0 }

func (s KindSet) String() string {
	var names []string
	for k := Kind(1); k < kindLimit; k++ {
		if s.Has(k) {
			names = append(names, k.String())
		}
	}
	return strings.Join(names, ",")
}

// KillSet selects the conditions on which the kernel itself sends SIGKILL
// to the task at the syscall or exec, before userspace sees the event.
type KillSet uint64

// Kill conditions. Values match bpf/common.h enum kill_bit.
const (
	// KillDrift: exec of any file that is not an unmodified image file
	// (Origin other than OriginImage and OriginUnknown).
	KillDrift KillSet = 1 << 0
	// KillMemfdExec: exec of a memfd (fileless execution).
	KillMemfdExec KillSet = 1 << 1
	// KillModuleLoad: init_module or finit_module.
	KillModuleLoad KillSet = 1 << 2
	// KillPtrace: ptrace ATTACH, SEIZE or POKE{TEXT,DATA,USER}.
	KillPtrace KillSet = 1 << 3
	// KillNamespace: unshare, clone or clone3 with namespace flags (or
	// clone_args the kernel could not read), or any setns.
	KillNamespace KillSet = 1 << 4
	// KillReverseShell: exec of any program whose fd 0 and fd 1 or 2 are
	// inet sockets, or of a shell (by comm) while fd 0 or 1 is one.
	KillReverseShell KillSet = 1 << 5
	// KillEventsLost: a task whose event its container's fair share of
	// the event buffer (Share) drops: a pod flooding the buffer.
	KillEventsLost KillSet = 1 << 13
)

var killNames = []string{"drift", "memfd_exec", "module_load", "ptrace", "namespace", "reverse_shell",
	13: "events_lost"}

func (s KillSet) String() string {
	var names []string
	for i, n := range killNames {
		if s&(1<<i) != 0 && n != "" {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
