//go:build linux && amd64

package probes

import "github.com/cilium/ebpf"

type syscallProg struct {
	name string
	nr   uint32
	prog *ebpf.Program
}

// syscallTable maps x86_64 syscall numbers to the tail-called handler.
// Numbers must match bpf/syscall.h.
func syscallTable(o *probeObjects) []syscallProg {
	return []syscallProg{
		{"open", 2, o.SysOpen}, {"creat", 85, o.SysOpen}, {"openat", 257, o.SysOpen}, {"openat2", 437, o.SysOpen},
		{"unlink", 87, o.SysUnlink}, {"rmdir", 84, o.SysUnlink}, {"unlinkat", 263, o.SysUnlink},
		{"rename", 82, o.SysTwopath}, {"renameat", 264, o.SysTwopath}, {"renameat2", 316, o.SysTwopath},
		{"link", 86, o.SysTwopath}, {"linkat", 265, o.SysTwopath},
		{"symlink", 88, o.SysTwopath}, {"symlinkat", 266, o.SysTwopath},
		{"chmod", 90, o.SysMode}, {"fchmod", 91, o.SysMode}, {"fchmodat", 268, o.SysMode}, {"fchmodat2", 452, o.SysMode},
		{"mkdir", 83, o.SysMode}, {"mkdirat", 258, o.SysMode},
		{"connect", 42, o.SysConnect}, {"socket", 41, o.SysSocket},
		{"dup2", 33, o.SysDup}, {"dup3", 292, o.SysDup},
		{"ptrace", 101, o.SysPtrace},
		{"process_vm_writev", 311, o.SysNumeric}, {"bpf", 321, o.SysNumeric},
		{"kill", 62, o.SysNumeric}, {"tkill", 200, o.SysNumeric}, {"tgkill", 234, o.SysNumeric},
		{"setuid", 105, o.SysNumeric}, {"setgid", 106, o.SysNumeric},
		{"setreuid", 113, o.SysNumeric}, {"setregid", 114, o.SysNumeric},
		{"setresuid", 117, o.SysNumeric}, {"setresgid", 119, o.SysNumeric},
		{"setfsuid", 122, o.SysNumeric}, {"setfsgid", 123, o.SysNumeric},
		{"fsmount", 432, o.SysNumeric},
		{"init_module", 175, o.SysModule}, {"finit_module", 313, o.SysModule},
		{"unshare", 272, o.SysNs}, {"setns", 308, o.SysNs},
		{"mount", 165, o.SysMount}, {"move_mount", 429, o.SysMount}, {"umount2", 166, o.SysMount},
		{"memfd_create", 319, o.SysMemfd},
	}
}
