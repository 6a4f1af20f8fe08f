package events

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/daemon/trusted"
)

// rotatingFile is an append-only JSON lines file rotated by size. It
// works relative to its directory, opened once and checked as podguard's
// own (trusted.OwnDir): the file is opened without following a symlink,
// and whatever sits at its name that podguard did not make — a symlink, a
// hard link to another file, a FIFO, someone else's file — is renamed
// aside (kept as evidence, reported) instead of written through. A file
// or directory deleted under it is noticed and created anew, so events
// never go to a file no one can read.
type rotatingFile struct {
	path   string
	max    int64
	keep   int
	maxAge time.Duration
	log    *slog.Logger

	dir    *os.File
	f      *os.File
	size   int64
	writes int
}

func (r *rotatingFile) write(line []byte) error {
	if r == nil {
		return nil
	}
	if r.f != nil && r.writes%256 == 0 {
		if r.gone() {
			r.close()
		} else {
			r.expire()
		}
	}
	if r.f == nil {
		if err := r.open(); err != nil {
			return err
		}
	}
	if r.size+int64(len(line)) > r.max && r.size > 0 {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	r.writes++
	n, err := r.f.Write(line)
	r.size += int64(n)
	if err != nil {
		r.f.Close()
		r.f = nil // reopen next time (the disk may have room again)
	}
	return err
}

// gone reports whether the file or its directory was deleted or replaced.
func (r *rotatingFile) gone() bool {
	var dst, fst, pst unix.Stat_t
	if unix.Fstat(int(r.dir.Fd()), &dst) != nil || dst.Nlink == 0 {
		return true
	}
	if unix.Fstat(int(r.f.Fd()), &fst) != nil || fst.Nlink == 0 {
		return true
	}
	if unix.Fstatat(int(r.dir.Fd()), r.name(), &pst, unix.AT_SYMLINK_NOFOLLOW) != nil || pst.Ino != fst.Ino || pst.Dev != fst.Dev {
		return true
	}
	// The directory itself renamed away or replaced at its path.
	if unix.Lstat(filepath.Dir(r.path), &pst) != nil || pst.Ino != dst.Ino || pst.Dev != dst.Dev {
		return true
	}
	return false
}

func (r *rotatingFile) name() string { return filepath.Base(r.path) }

func (r *rotatingFile) open() error {
	if r.dir == nil {
		d, err := trusted.OwnDir(filepath.Dir(r.path), 0o750)
		if err != nil {
			return err
		}
		r.dir = d
		r.expire()
	}
	for attempt := 0; ; attempt++ {
		fd, err := unix.Openat(int(r.dir.Fd()), r.name(), unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0o600)
		var why string
		var st unix.Stat_t
		switch {
		case errors.Is(err, unix.ELOOP):
			why = "a symlink"
		case errors.Is(err, unix.ENXIO):
			why = "a FIFO"
		case err != nil:
			return fmt.Errorf("open %s: %w", r.path, err)
		case unix.Fstat(fd, &st) != nil:
			unix.Close(fd)
			return fmt.Errorf("stat %s: cannot", r.path)
		case st.Mode&unix.S_IFMT != unix.S_IFREG:
			why = "not a regular file"
		case st.Nlink != 1:
			why = "a hard link to another file"
		case st.Uid != 0 && st.Uid != uint32(os.Geteuid()):
			why = "someone else's file (uid " + strconv.Itoa(int(st.Uid)) + ")"
		}
		if why == "" {
			if unix.Fchmod(fd, 0o600) != nil { // a file left wider by hand
				r.log.Warn("events file: cannot restrict its mode to 0600", "file", r.path)
			}
			r.f, r.size = os.NewFile(uintptr(fd), r.path), st.Size
			return nil
		}
		if fd >= 0 && err == nil {
			unix.Close(fd)
		}
		if attempt > 0 {
			return fmt.Errorf("open %s: still %s after moving one aside", r.path, why)
		}
		aside := r.name() + ".untrusted-" + strconv.FormatInt(time.Now().UnixNano(), 10)
		if err := unix.Renameat(int(r.dir.Fd()), r.name(), int(r.dir.Fd()), aside); err != nil {
			return fmt.Errorf("events file %s is %s and cannot be moved aside: %w", r.path, why, err)
		}
		r.log.Error("events file: something podguard did not make was at its path; moved aside, not written through",
			"file", r.path, "was", why, "moved_to", filepath.Join(filepath.Dir(r.path), aside))
	}
}

func (r *rotatingFile) rotate() error {
	r.f.Close()
	r.f = nil
	dfd := int(r.dir.Fd())
	for i := r.keep - 1; i >= 1; i-- {
		unix.Renameat(dfd, r.name()+"."+strconv.Itoa(i), dfd, r.name()+"."+strconv.Itoa(i+1))
	}
	if err := unix.Renameat(dfd, r.name(), dfd, r.name()+".1"); err != nil {
		return fmt.Errorf("rotate %s: %w", r.path, err)
	}
	r.expire()
	return r.open()
}

// expire deletes the rotated files last written longer ago than maxAge.
func (r *rotatingFile) expire() {
	if r.maxAge <= 0 || r.dir == nil {
		return
	}
	dfd := int(r.dir.Fd())
	for i := 1; i <= r.keep; i++ {
		name := r.name() + "." + strconv.Itoa(i)
		var st unix.Stat_t
		if unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
			continue
		}
		if time.Since(time.Unix(st.Mtim.Unix())) > r.maxAge {
			if err := unix.Unlinkat(dfd, name, 0); err == nil {
				r.log.Info("events file past its retention removed", "file", filepath.Join(filepath.Dir(r.path), name), "max_age", r.maxAge)
			}
		}
	}
}

func (r *rotatingFile) close() {
	if r == nil {
		return
	}
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	if r.dir != nil {
		r.dir.Close()
		r.dir = nil
	}
}
