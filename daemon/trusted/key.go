package trusted

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// keyFile is the name of the state key in the state directory.
const keyFile = "state.key"

// Key signs podguard's state records (HMAC-SHA256) with a root-only key
// kept in the state directory: a record podguard did not write — planted
// by whoever can write the directory but not read the key (a pod with a
// hostPath running as another user, a restore from elsewhere) — fails
// Verify, and callers ignore and report it.
type Key struct{ k []byte }

// StateKey returns the key in dir, made on first use (32 random bytes,
// mode 0600, never through a symlink). A key file that others can read or
// write is replaced: records signed with it are then no longer trusted.
func StateKey(dir string) (*Key, error) {
	k, err := stateKey(dir)
	if errors.Is(err, unix.EEXIST) { // made by another component just now
		k, err = stateKey(dir)
	}
	return k, err
}

func stateKey(dir string) (*Key, error) {
	d, err := OwnDir(dir, 0o700)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	dfd := int(d.Fd())
	fd, err := unix.Openat(dfd, keyFile, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == nil {
		f := os.NewFile(uintptr(fd), filepath.Join(dir, keyFile))
		defer f.Close()
		var st unix.Stat_t
		buf := make([]byte, 64)
		n, rerr := f.Read(buf)
		if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && owned(st.Uid) && st.Mode&0o077 == 0 && rerr == nil && n == 32 {
			return &Key{k: buf[:32]}, nil
		}
		// Unusable: exposed, someone else's, or not what podguard wrote.
		if err := unix.Unlinkat(dfd, keyFile, 0); err != nil {
			return nil, fmt.Errorf("replace untrusted state key in %s: %w", dir, err)
		}
	} else if !errors.Is(err, unix.ENOENT) {
		if err := unix.Unlinkat(dfd, keyFile, 0); err != nil { // a symlink or FIFO in its place
			return nil, fmt.Errorf("replace untrusted state key in %s: %w", dir, err)
		}
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("make state key: %w", err)
	}
	fd, err = unix.Openat(dfd, keyFile, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("make state key in %s: %w", dir, err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(dir, keyFile))
	defer f.Close()
	if _, err := f.Write(k); err != nil {
		return nil, fmt.Errorf("write state key: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("sync state key: %w", err)
	}
	return &Key{k: k}, nil
}

// Sign returns the hex MAC of data.
func (k *Key) Sign(data []byte) string {
	m := hmac.New(sha256.New, k.k)
	m.Write(data)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether mac is data's MAC under k.
func (k *Key) Verify(data []byte, mac string) bool {
	want, err := hex.DecodeString(mac)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, k.k)
	m.Write(data)
	return hmac.Equal(m.Sum(nil), want)
}
