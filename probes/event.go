package probes

import "net/netip"

// Flags are per-event facts the kernel decided at the hook.
type Flags uint16

// Event flags. Values match bpf/common.h enum event_flag.
const (
	FlagKilled     Flags = 1 << 0  // the kernel sent SIGKILL (see KillSet)
	FlagTruncated  Flags = 1 << 1  // a string, path or argv was cut short
	FlagStdinSock  Flags = 1 << 2  // exec: fd 0 is a socket
	FlagStdoutSock Flags = 1 << 3  // exec: fd 1 is a socket
	FlagTTY        Flags = 1 << 4  // exec: fd 0 is a terminal
	FlagUpper      Flags = 1 << 5  // exec: the file is only on the overlayfs upper layer
	FlagMemfd      Flags = 1 << 6  // exec: the file is a memfd
	FlagOldSocket  Flags = 1 << 7  // dup: the old fd is a socket
	FlagInetStdio  Flags = 1 << 8  // exec: fd 0/1 is an inet socket; dup: old fd is one
	FlagCompat     Flags = 1 << 9  // the syscall came through the ia32 ABI (int 0x80, 32-bit task)
	FlagUnreadable Flags = 1 << 10 // an argument could not be read (clone3's clone_args, io_uring's address…)
)

// Record is one decoded kernel event record. The common header fields are always
// set; the rest depend on Kind (see the field comments). A Record received
// from Probes.Events belongs to the receiver; podguard never touches it
// again.
type Record struct {
	Kind     Kind
	Flags    Flags
	KTime    uint64 // CLOCK_MONOTONIC ns (bpf_ktime_get_ns)
	PID      uint32 // thread id
	TGID     uint32 // process id
	PPID     uint32 // parent's process id
	UID      uint32
	GID      uint32
	CgroupID uint64 // cgroup v2 id of the task (inode number of its directory)
	Comm     string

	// Syscall is the x86_64 syscall number behind a syscall event (0 for
	// exec, fork and exit). ia32 calls carry the equivalent x86_64 number
	// and FlagCompat.
	Syscall uint32

	// exec
	Exe      string   // resolved path of the executed file (dentry walk)
	Filename string   // the path as passed to execve (may be relative)
	Args     []string // argv, bounded to 512 bytes (FlagTruncated when cut)
	Cwd      string   // resolved working directory
	EUID     uint32
	EGID     uint32
	// exec: what ran, as the kernel loaded it (never its name)
	Origin        Origin // where the executed file comes from
	CopiedUp      bool   // OriginUpper: an image file written or chmodded in the container
	ExeDev        uint32 // the file's device (kernel dev_t: major<<20 | minor)
	ExeIno        uint64 // the file's inode
	ExeNlink      uint32 // the file's link count (0: memfd, O_TMPFILE, deleted)
	StdioInet     uint8  // bit n: fd n (0-2) was an AF_INET/AF_INET6 socket at exec
	ArgsTruncated bool   // argv was longer than the kernel copies (512 bytes)

	// open, unlink, rename, link, symlink, chmod, mkdir (absolute paths:
	// relative ones are joined with the cwd or the dirfd's path, which
	// the kernel resolves)
	Path      string // open/unlink/chmod/mkdir target; rename/link old path; symlink target (as written)
	Path2     string // rename/link/symlink new path
	RawPath   string // Path exactly as passed to the syscall
	DirFD     int32  // dirfd of the *at syscall (-100 = AT_FDCWD)
	FileFlags uint32 // open flags; unlinkat/renameat2/linkat/fchmodat2 flags
	Mode      uint32 // open/creat/chmod/mkdir mode

	// open (judged at syscall exit): Ret is the fd, or -errno of a
	// refused attempt (EACCES, EPERM). With Ret >= 0, Path is the path
	// the kernel resolved from the opened file (to the task's root:
	// "//", ".", "..", symlinks, /proc/self/root, fd reopens all give the
	// one path) and Dev, Ino, Layer identify the file; a refused attempt
	// has the raw path, joined with its base and cleaned. connect (and
	// sendto/sendmsg with an address): Ret is the syscall's result.
	// A granted open or a connect reported by a BPF-LSM hook (ByLSM) has
	// Ret 0: the hook runs before the syscall returns.
	Ret   int32
	ByLSM bool   // open, connect: reported by bpf/lsm.h's programs (HookSetLSM, HookSetFentry), not at syscall exit
	Dev   uint32 // st_dev of the opened file (kernel dev_t encoding)
	Ino   uint64 // st_ino of the opened file
	Layer Layer  // overlayfs layer of the opened file

	// connect, socket
	Family   uint16
	SockType uint32
	Protocol uint32
	FD       int32      // connect: the socket fd
	Addr     netip.Addr // connect: AF_INET/AF_INET6 destination
	Port     uint16     // connect: destination port
	UnixPath string     // connect: AF_UNIX path (leading "@" for abstract)

	// dup: OldFD onto NewFD (0-2); FlagOldSocket / FlagInetStdio
	OldFD int32
	NewFD int32

	// ptrace: Request and TargetPID; process_vm_writev, kill: TargetPID
	Request   uint64
	TargetPID int32
	TGIDArg   int32 // tgkill: thread group
	Signal    uint32

	// bpf: Cmd
	Cmd uint64

	// mount: Source, Target, FSType, MountFlags; move_mount: Source=from
	// path, Target=to path, MountFlags=move flags; fsmount: MountFlags;
	// umount: Target, MountFlags
	Source     string
	Target     string
	FSType     string
	MountFlags uint64

	// unshare: NSFlags (CLONE_NEW*); setns: NSFlags = nstype, FD
	NSFlags uint64

	// setid: the requested ids in syscall order (-1 = unchanged)
	IDs [3]int32

	// memfd_create: Name, MemfdFlags
	Name       string
	MemfdFlags uint32

	// module: ModuleFD (finit_module), ModuleLen (init_module), Name holds
	// the parameter string
	ModuleFD  int32
	ModuleLen uint64

	// events_lost: the container's (CgroupID) events the kernel lost
	// since the last report, by kind and reason
	Lost []Loss
	// clone: NSFlags (the clone flags); mknod: Path, Mode, Dev; truncate:
	// Path, Length; io_uring (setup): Entries, URingFlags. io_uring
	// submissions carry URingOp (the IORING_OP_ code + 1, so 0 is "not
	// io_uring") and FD: OPENAT/OPENAT2 decode as KindOpen (Path, FileFlags,
	// DirFD), CONNECT as KindConnect (Family, Addr, Port), writes and file
	// changes as KindURingOp with Path (the fd's file) unless FixedFile.
	// (Dev, shared with open, is then the device number made.)
	Length     uint64
	Entries    uint32
	URingFlags uint32
	URingOp    uint16
	FixedFile  bool

	// fork: ChildPID; exit: ExitCode and ExitSignal
	ChildPID   uint32
	ExitCode   int32
	ExitSignal uint32
}

// Killed reports whether the kernel killed the task at this event.
func (e *Record) Killed() bool { return e.Flags&FlagKilled != 0 }

// Layer is where an opened file lives on a container's overlayfs.
type Layer uint16

// Layers. Values match bpf/exit.h enum file_layer.
const (
	LayerNone   Layer = 0 // not on overlayfs
	LayerUpper  Layer = 1 // only on the upper layer: written in the container
	LayerCopied Layer = 2 // the upper copy of an image file (copied up when written)
	LayerLower  Layer = 3 // an unmodified file of the image
)

// Attempt reports whether an open event is a refused attempt.
func (e *Record) Attempt() bool { return e.Kind == KindOpen && e.Ret < 0 }
