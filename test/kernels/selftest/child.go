//go:build linux && amd64

package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// child runs one action inside the watched cgroup and returns the exit
// code. Actions that must be killed write a marker after their dangerous
// step, so a marker on disk means the kernel did not kill in time.
func child(action string, args []string) int {
	var err error
	switch action {
	case "child-events": // openat(AT_FDCWD, path) and connect(127.0.0.1:port)
		err = openAndConnect(args[0], args[1])
	case "child-memfd": // copy ourselves into a memfd and execveat it
		err = memfdExec(args[0])
	case "child-unshare": // unshare(CLONE_NEWUTS), then the marker
		if err = unix.Unshare(unix.CLONE_NEWUTS); err == nil {
			err = writeMarker(args[0])
		}
	case "child-storm": // see stormChild
		err = stormChild(args[0], args[1])
	case "child-opens": // see openPaths
		err = openPaths(args)
	case "child-marker":
		err = writeMarker(args[0])
	default:
		err = fmt.Errorf("unknown action %q", action)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", action, err)
		return 2
	}
	return 0
}

func openAndConnect(path, port string) error {
	fd, err := unix.Openat(unix.AT_FDCWD, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	unix.Close(fd)
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(s)
	err = unix.Connect(s, &unix.SockaddrInet4{Port: p, Addr: [4]byte{127, 0, 0, 1}})
	if err != unix.ECONNREFUSED {
		return fmt.Errorf("connect 127.0.0.1:%d: got %v, want connection refused", p, err)
	}
	return nil
}

func writeMarker(path string) error {
	return os.WriteFile(path, []byte("ran\n"), 0o644)
}

func memfdExec(marker string) error {
	fd, err := unix.MemfdCreate("pgselftest", 0)
	if err != nil {
		return fmt.Errorf("memfd_create: %w", err)
	}
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return err
	}
	if _, err := io.Copy(os.NewFile(uintptr(fd), "memfd"), self); err != nil {
		return err
	}
	empty, _ := unix.BytePtrFromString("")
	argv, err := syscall.SlicePtrFromStrings([]string{"selftest", "child-marker", marker})
	if err != nil {
		return err
	}
	envp, _ := syscall.SlicePtrFromStrings(nil)
	_, _, e := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return fmt.Errorf("execveat: %w", e)
}

// stormChild opens path.0 … path.(n-1) (ENOENT is fine: the event is at
// syscall entry) while four other threads of the process keep calling
// tgkill(signal 0) and sleeping, so that on a preemptible kernel another
// watched thread often wakes up on the CPU of a thread inside a probe.
func stormChild(path, count string) error {
	n, err := strconv.Atoi(count)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			pid, tid := unix.Getpid(), unix.Gettid()
			for {
				select {
				case <-done:
					return
				default:
				}
				unix.Tgkill(pid, tid, 0)
				unix.Nanosleep(&unix.Timespec{Nsec: 50_000}, nil)
			}
		}()
	}
	for i := 0; i < n; i++ {
		if fd, err := unix.Openat(unix.AT_FDCWD, path+"."+strconv.Itoa(i), unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			unix.Close(fd)
		}
	}
	close(done)
	wg.Wait()
	return nil
}
