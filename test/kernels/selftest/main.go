//go:build linux && amd64

// Command selftest checks podguard's probes on the running kernel: it
// loads them, watches a fresh cgroup v2 directory, makes a child in that
// cgroup exec, open a known file and connect to a closed loopback port,
// checks the decoded events, then arms in-kernel kills (memfd exec,
// unshare) and checks the kernel killed the child before it wrote a
// marker. The children are this binary started with a trigger action
// (test/trigger), the same code the probes and end-to-end tests run. It prints one line per check and ends with
// "PODGUARD-SELFTEST PASS" or "PODGUARD-SELFTEST FAIL: reason".
//
// As PID 1 (the /init of a qemu guest's initramfs) it mounts /proc, /sys,
// /dev, cgroup2, tracefs, debugfs and bpffs itself, brings lo up and
// powers the machine off at the end. Run by hand it changes no mounts.
package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/test/trigger"
)

// ResultPrefix starts the last line the self-test prints.
const ResultPrefix = "PODGUARD-SELFTEST "

func main() {
	if len(os.Args) > 1 && trigger.Has(os.Args[1]) {
		os.Exit(trigger.Main(os.Args[1:]))
	}
	pid1 := os.Getpid() == 1
	if pid1 && (len(os.Args) < 2 || os.Args[1] != "guest") {
		// cilium/ebpf caches what it reads from /proc/self/mountinfo on
		// first use, which may come before main runs: mount first, then
		// start over in a process that sees the mounts from its start.
		err := setupGuest()
		if err == nil {
			err = unix.Exec("/proc/self/exe", []string{"/init", "guest"}, os.Environ())
		}
		fmt.Println(ResultPrefix + "FAIL: guest setup: " + err.Error())
		powerOff()
	}
	err := run(pid1)
	if err != nil {
		fmt.Println(ResultPrefix + "FAIL: " + err.Error())
	} else {
		fmt.Println(ResultPrefix + "PASS")
	}
	if pid1 {
		powerOff()
	}
	if err != nil {
		os.Exit(1)
	}
}

func powerOff() {
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {} // PID 1 must not exit: that panics the kernel
}
