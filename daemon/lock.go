package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/daemon/config"
	"github.com/podguard/podguard/daemon/trusted"
)

// errRunning means another podguard holds the instance lock.
var errRunning = errors.New("podguard is already running on this node")

// lockInstance makes sure one podguard runs per API socket (per node in
// practice): it holds an exclusive flock beside the socket for the life of
// the daemon. The kernel drops the lock when the process dies, however it
// dies.
func lockInstance(cfg *config.Config) (func(), error) {
	dir := filepath.Dir(cfg.API.Socket)
	d, err := trusted.OwnDir(dir, 0o700)
	if err != nil {
		return nil, fmt.Errorf("api directory: %w", err)
	}
	d.Close()
	p := filepath.Join(dir, "podguard.lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		data, _ := os.ReadFile(p)
		f.Close()
		pid := strings.TrimSpace(string(data))
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (pid %s holds %s; stop it first, or give this one another [api] socket)", errRunning, pid, p)
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}
