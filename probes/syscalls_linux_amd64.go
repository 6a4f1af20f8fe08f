//go:build linux && amd64

package probes

import "github.com/cilium/ebpf"

type syscallProg struct {
	name string
	nr   uint32   // x86_64 number (bpf/syscall.h)
	ia32 []uint32 // ia32 numbers handled as this syscall (syscall_32.tbl)
	prog *ebpf.Program
}

// syscallTable maps syscall numbers to the tail-called handler. ia32
// socketcall(SYS_SOCKET/SYS_CONNECT) is unpacked by the dispatcher itself.
func syscallTable(o *probeObjects) []syscallProg {
	return []syscallProg{
		{"open", 2, ia(5), o.SysOpen}, {"creat", 85, ia(8), o.SysOpen},
		{"openat", 257, ia(295), o.SysOpen}, {"openat2", 437, ia(437), o.SysOpen},
		{"open_by_handle_at", 304, ia(342), o.SysOpen},
		{"unlink", 87, ia(10), o.SysUnlink}, {"rmdir", 84, ia(40), o.SysUnlink}, {"unlinkat", 263, ia(301), o.SysUnlink},
		{"rename", 82, ia(38), o.SysTwopath}, {"renameat", 264, ia(302), o.SysTwopath}, {"renameat2", 316, ia(353), o.SysTwopath},
		{"link", 86, ia(9), o.SysTwopath}, {"linkat", 265, ia(303), o.SysTwopath},
		{"symlink", 88, ia(83), o.SysTwopath}, {"symlinkat", 266, ia(304), o.SysTwopath},
		{"chmod", 90, ia(15), o.SysMode}, {"fchmod", 91, ia(94), o.SysMode},
		{"fchmodat", 268, ia(306), o.SysMode}, {"fchmodat2", 452, ia(452), o.SysMode},
		{"mkdir", 83, ia(39), o.SysMode}, {"mkdirat", 258, ia(296), o.SysMode},
		{"connect", 42, ia(362), o.SysConnect},
		{"sendto", 44, ia(369), o.SysConnect}, {"sendmsg", 46, ia(370), o.SysConnect}, {"socket", 41, ia(359), o.SysSocket},
		{"dup", 32, ia(41), o.SysDup}, {"fcntl", 72, ia(55, 221), o.SysDup},
		{"dup2", 33, ia(63), o.SysDup}, {"dup3", 292, ia(330), o.SysDup},
		{"ptrace", 101, ia(26), o.SysPtrace},
		{"process_vm_writev", 311, ia(348), o.SysNumeric}, {"bpf", 321, ia(357), o.SysNumeric},
		{"kill", 62, ia(37), o.SysNumeric}, {"tkill", 200, ia(238), o.SysNumeric}, {"tgkill", 234, ia(270), o.SysNumeric},
		{"setuid", 105, ia(23, 213), o.SysNumeric}, {"setgid", 106, ia(46, 214), o.SysNumeric},
		{"setreuid", 113, ia(70, 203), o.SysNumeric}, {"setregid", 114, ia(71, 204), o.SysNumeric},
		{"setresuid", 117, ia(164, 208), o.SysNumeric}, {"setresgid", 119, ia(170, 210), o.SysNumeric},
		{"setfsuid", 122, ia(138, 215), o.SysNumeric}, {"setfsgid", 123, ia(139, 216), o.SysNumeric},
		{"fsmount", 432, ia(432), o.SysNumeric},
		{"init_module", 175, ia(128), o.SysModule}, {"finit_module", 313, ia(350), o.SysModule},
		{"unshare", 272, ia(310), o.SysNs}, {"setns", 308, ia(346), o.SysNs},
		{"mount", 165, ia(21), o.SysMount}, {"move_mount", 429, ia(429), o.SysMount},
		{"umount2", 166, ia(52, 22), o.SysMount}, // 22: umount(name), no flags
		{"memfd_create", 319, ia(356), o.SysMemfd},
		// other routes to the same effects (routes.h)
		{"clone", 56, ia(120), o.SysClone}, {"clone3", 435, ia(435), o.SysClone},
		{"mknod", 133, ia(14), o.SysMknod}, {"mknodat", 259, ia(297), o.SysMknod},
		{"truncate", 76, ia(92, 193), o.SysTruncate}, {"ftruncate", 77, ia(93, 194), o.SysTruncate},
		{"rt_sigqueueinfo", 129, ia(178), o.SysSignal}, {"rt_tgsigqueueinfo", 297, ia(335), o.SysSignal},
		{"pidfd_send_signal", 424, ia(424), o.SysSignal},
		{"fsopen", 430, ia(430), o.SysMount}, {"fsconfig", 431, ia(431), o.SysMount},
		{"open_tree", 428, ia(428), o.SysMount}, {"fspick", 433, ia(433), o.SysMount},
		{"io_uring_setup", 425, ia(425), o.SysUringSetup},
	}
}

// exitTable maps the syscalls whose entry handler stashes them for
// sys_exit (bpf/exit.h) to their exit handler, by x86_64 number.
func exitTable(o *probeObjects) []syscallProg {
	return []syscallProg{
		{"open", 2, nil, o.SysOpenExit}, {"creat", 85, nil, o.SysOpenExit},
		{"openat", 257, nil, o.SysOpenExit}, {"openat2", 437, nil, o.SysOpenExit},
		{"open_by_handle_at", 304, nil, o.SysOpenExit},
		{"connect", 42, nil, o.SysConnectExit}, {"sendto", 44, nil, o.SysConnectExit}, {"sendmsg", 46, nil, o.SysConnectExit},
		// directory changes (dir_change): cached directory verdicts end
		{"rename", 82, nil, o.SysDirExit}, {"renameat", 264, nil, o.SysDirExit}, {"renameat2", 316, nil, o.SysDirExit},
		{"rmdir", 84, nil, o.SysDirExit}, {"unlinkat", 263, nil, o.SysDirExit},
		{"mount", 165, nil, o.SysDirExit}, {"umount2", 166, nil, o.SysDirExit}, {"move_mount", 429, nil, o.SysDirExit},
	}
}

func ia(nrs ...uint32) []uint32 { return nrs }

// ia32Socketcall is unpacked by the dispatcher (socket and connect).
const ia32Socketcall = 102

// handledNrs is the dispatchers' handled_nrs bitmap: every x86_64 and
// ia32 number of syscallTable, and socketcall.
func handledNrs() [8]uint64 {
	var bits [8]uint64
	set := func(nr uint32) { bits[nr/64&7] |= 1 << (nr % 64) }
	set(ia32Socketcall)
	for _, sc := range syscallTable(&probeObjects{}) {
		set(sc.nr)
		for _, n := range sc.ia32 {
			set(n)
		}
	}
	return bits
}
