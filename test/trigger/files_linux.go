package trigger

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

func closeFd(fd int, err error) error {
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

func openRel(args []string) error {
	return closeFd(unix.Openat(unix.AT_FDCWD, args[0], unix.O_CREAT|unix.O_WRONLY, 0o640))
}

func openDirfd(args []string) error {
	dfd, err := unix.Open(args[0], unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		return err
	}
	return closeFd(unix.Openat(dfd, args[1], unix.O_CREAT|unix.O_RDWR, 0o600))
}

func openat2(args []string) error {
	return closeFd(unix.Openat2(unix.AT_FDCWD, args[0], &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC}))
}

func creat(args []string) error {
	p, err := unix.BytePtrFromString(args[0])
	if err != nil {
		return err
	}
	fd, _, e := unix.Syscall(unix.SYS_CREAT, uintptr(unsafe.Pointer(p)), 0o604, 0)
	if e != 0 {
		return e
	}
	return unix.Close(int(fd))
}

// files runs one of each file operation, relative to the working directory.
func files([]string) error {
	steps := []func() error{
		func() error { return unix.Mkdirat(unix.AT_FDCWD, "d", 0o750) },
		func() error { return os.WriteFile("d/a", nil, 0o600) },
		func() error { return unix.Renameat(unix.AT_FDCWD, "d/a", unix.AT_FDCWD, "d/b") },
		func() error { return unix.Linkat(unix.AT_FDCWD, "d/b", unix.AT_FDCWD, "d/hard", 0) },
		func() error { return unix.Symlinkat("/etc/hostname", unix.AT_FDCWD, "d/sym") },
		func() error { return unix.Fchmodat(unix.AT_FDCWD, "d/b", 0o4755, 0) },
		func() error {
			f, err := os.Open("d/hard")
			if err != nil {
				return err
			}
			defer f.Close()
			return unix.Fchmod(int(f.Fd()), 0o640)
		},
		func() error { return unix.Unlinkat(unix.AT_FDCWD, "d/sym", 0) },
	}
	for i, s := range steps {
		if err := s(); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	return nil
}

func openRead(paths []string) error {
	for _, p := range paths {
		closeFd(unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0))
	}
	return nil
}

func openWrite(paths []string) error {
	for _, p := range paths {
		closeFd(unix.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o600))
	}
	return nil
}

func stormOpen(args []string) error {
	n, err := strconv.Atoi(args[1])
	for i := 0; i < n && err == nil; i++ {
		err = closeFd(unix.Open(args[0], unix.O_RDONLY, 0))
	}
	return err
}

// stormOpenThreads opens path.0 … path.(n-1) (ENOENT is fine: the event is
// at syscall entry) while four other threads of the process keep calling
// tgkill(signal 0) and sleeping, so that on a preemptible kernel another
// watched thread often wakes up on the CPU of a thread inside a probe.
func stormOpenThreads(args []string) error {
	path := args[0]
	n, err := strconv.Atoi(args[1])
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
		closeFd(unix.Openat(unix.AT_FDCWD, path+"."+strconv.Itoa(i), unix.O_RDONLY|unix.O_CLOEXEC, 0))
	}
	close(done)
	wg.Wait()
	return nil
}
