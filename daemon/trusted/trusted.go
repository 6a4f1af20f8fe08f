package trusted

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Error is a file podguard refuses to trust: Msg says why and what to
// fix, without the file's path (callers that report FILE: MESSAGE use it).
type Error struct {
	Path string
	Kind Kind
	Msg  string
}

// Kind is why a file is refused.
type Kind int

const (
	Untrusted  Kind = iota // owner or mode lets someone else change it
	Dangling               // a symlink to nothing
	Directory              // a directory where a file was expected
	NotRegular             // a device, FIFO or socket
	TooLarge
	Unreadable
	Symlink // a symlink where podguard keeps its own files
)

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

func refuse(path string, kind Kind, format string, args ...any) error {
	return &Error{Path: path, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// owners are the users whose files podguard trusts: root and itself.
func owned(uid uint32) bool { return uid == 0 || uid == uint32(os.Geteuid()) }

// checkMode refuses what another user owns or can write. A directory
// with the sticky bit (/tmp) may be writable by all: others cannot
// replace or remove what they do not own in it.
// what names the checked object in the message ("file", "directory
// /a/b above it"); file is the path reported.
func checkMode(st *unix.Stat_t, file, what, path string) error {
	if !owned(st.Uid) {
		return refuse(file, Untrusted, "%s is owned by uid %d, not root; anyone owning it can turn protection off: chown root %s", what, st.Uid, path)
	}
	perm := st.Mode & 0o7777
	if perm&0o022 != 0 && !(st.Mode&unix.S_IFMT == unix.S_IFDIR && perm&unix.S_ISVTX != 0) {
		return refuse(file, Untrusted, "%s is writable by group or others (mode %04o); anyone who can write it can turn protection off: chmod go-w %s", what, perm&0o777, path)
	}
	return nil
}

// checkParents checks every directory above the file the kernel opened
// for fd, from its parent up to /, so a file reached through symlinks
// (a ConfigMap's ..data) is trusted only if every directory that could
// swap it is.
func checkParents(fd int, file string) error {
	resolved, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return nil // no procfs: the descriptor's own check stands
	}
	for dir := filepath.Dir(resolved); ; dir = filepath.Dir(dir) {
		var st unix.Stat_t
		if err := unix.Lstat(dir, &st); err != nil {
			return refuse(file, Untrusted, "directory %s above it cannot be checked: %v", dir, err)
		}
		if err := checkMode(&st, file, "directory "+dir+" above it", dir); err != nil {
			return err
		}
		if dir == "/" || dir == "." {
			return nil
		}
	}
}

// afterOpen runs between the open and the checks (tests swap files here).
var afterOpen = func(path string) {}

// ReadFile returns the contents of the regular file at path (symlinks
// followed: ConfigMap volumes are made of them) if it is at most max
// bytes and it and the directories above it are root's and writable by
// no one else. The data read is that of the file checked.
func ReadFile(path string, max int64) ([]byte, error) {
	return ReadFileAt(unix.AT_FDCWD, path, max)
}

// ReadFileAt is ReadFile for a name relative to the directory open as dirfd.
func ReadFileAt(dirfd int, path string, max int64) ([]byte, error) {
	// O_NONBLOCK: a FIFO planted as the file must not hang the open.
	fd, err := unix.Openat(dirfd, path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		switch {
		case errors.Is(err, unix.ENOENT):
			var st unix.Stat_t
			if unix.Fstatat(dirfd, path, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				return nil, refuse(path, Dangling, "is a symlink to a file that does not exist; fix or remove the link")
			}
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		case errors.Is(err, unix.EACCES):
			return nil, refuse(path, Unreadable, "cannot read: %v; make it readable by root", err)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	afterOpen(path)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return nil, refuse(path, Directory, "is a directory, not a file")
	default:
		return nil, refuse(path, NotRegular, "is not a regular file (a device, FIFO or socket); it must be a plain file")
	}
	if st.Size > max {
		return nil, refuse(path, TooLarge, "is %d bytes, larger than the %d-byte limit", st.Size, max)
	}
	if err := checkMode(&st, path, "file", path); err != nil {
		return nil, err
	}
	if err := checkParents(fd, path); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, refuse(path, TooLarge, "grew beyond the %d-byte limit while read", max)
	}
	return data, nil
}

// OpenDir opens the directory at path without following a symlink in its
// last component, checks that it is root's and writable by no one else,
// and returns it; callers list and open its entries through it.
func OpenDir(path string) (*os.File, error) {
	f, st, err := openDir(path, 0)
	if err != nil {
		return nil, err
	}
	if err := checkMode(st, path, "directory", path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// OwnDir makes sure path is a directory fit for podguard's own files and
// returns it open, so that files in it are created and renamed relative to
// it. A missing directory is made (parents too) with mode. An existing one
// must not be a symlink or another user's; one that group or others can
// write (a sticky shared one such as /tmp aside) is tightened to mode if
// it is podguard's by name (/run/podguard, /var/lib/podguard: the package
// layout), and refused otherwise: podguard does not change the mode of a
// directory it shares with others (an Ubuntu /var/log is root:syslog 0775).
func OwnDir(path string, mode os.FileMode) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := unix.Mkdir(path, uint32(mode.Perm())); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, st, err := openDir(path, unix.O_NOFOLLOW)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return nil, refuse(path, Symlink, "is a symlink or not a directory; podguard keeps its files only in a directory of its own: remove it")
	}
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	if !owned(st.Uid) {
		f.Close()
		return nil, refuse(path, Untrusted, "directory is owned by uid %d, not root; podguard keeps its files only in a directory of its own: chown root %s", st.Uid, path)
	}
	perm := os.FileMode(st.Mode & 0o777)
	sticky := st.Mode&unix.S_ISVTX != 0
	switch {
	case strings.HasPrefix(filepath.Base(path), "podguard") && perm&^mode.Perm() != 0 && !sticky:
		if err := unix.Fchmod(fd, uint32(perm&mode.Perm())); err != nil {
			f.Close()
			return nil, fmt.Errorf("tighten %s from %04o to %04o: %w", path, perm, perm&mode.Perm(), err)
		}
	case perm&0o022 != 0 && !sticky:
		f.Close()
		return nil, refuse(path, Untrusted, "directory is writable by group or others (mode %04o); podguard keeps its files only in a directory no one else can write: chmod go-w %s, or configure a directory of its own", perm, path)
	}
	return f, nil
}

// openDir opens the directory at path (with extra open flags) and stats
// the descriptor.
func openDir(path string, flags int) (*os.File, *unix.Stat_t, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|flags, 0)
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	return f, &st, nil
}
