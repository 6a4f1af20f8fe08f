package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podguard/podguard/probes/cgroupfs"
)

// acquireSlot takes the first free slot lock; the slot picks the bridge name
// and subnet, so nodes of concurrent test processes never share them.
func (n *Node) acquireSlot() error {
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return fmt.Errorf("create lock dir: %w", err)
	}
	for slot := 0; slot < maxSlots; slot++ {
		f, err := os.OpenFile(filepath.Join(lockDir, fmt.Sprintf("slot%d.lock", slot)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return fmt.Errorf("open slot lock: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		n.slot, n.lock = slot, f
		n.bridge = fmt.Sprintf("pgtest%d", slot)
		n.subnet = fmt.Sprintf("10.88.%d.0/24", 64+slot)
		n.reapStale()
		return nil
	}
	return fmt.Errorf("all %d test node slots are busy", maxSlots)
}

func (n *Node) releaseSlot() {
	if n.lock != nil {
		n.lock.Close()
		n.lock = nil
	}
}

func (n *Node) pidFile() string { return filepath.Join(lockDir, fmt.Sprintf("slot%d.pid", n.slot)) }

// reapStale removes what a crashed earlier holder of the slot left: it
// kills that containerd (known by the pid file), starts one again on the
// old state to remove the old pods through CRI, then stops it and removes
// the old bridge, cgroups and files.
func (n *Node) reapStale() {
	b, err := os.ReadFile(n.pidFile())
	if err == nil {
		fields := strings.Fields(string(b))
		if len(fields) == 2 {
			pid, _ := strconv.Atoi(fields[0])
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if pid > 0 && strings.Contains(string(cmdline), fields[1]) {
				syscall.Kill(pid, syscall.SIGKILL)
				for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
					time.Sleep(20 * time.Millisecond)
				}
			}
			if _, err := os.Stat(filepath.Join(fields[1], "containerd.toml")); err == nil {
				old := &Node{dir: fields[1], socket: filepath.Join(fields[1], "containerd.sock"),
					slot: n.slot, bridge: n.bridge, subnet: n.subnet, pods: map[string]*Pod{}}
				os.Remove(old.socket)
				if err := old.startContainerd(); err == nil {
					if err := old.dial(); err == nil {
						old.waitReady()
					}
				}
				old.close()
			}
		}
		os.Remove(n.pidFile())
	}
	if link, err := netlink.LinkByName(n.bridge); err == nil {
		netlink.LinkDel(link)
	}
}

// close removes every pod of the node, stops containerd and its shims and
// removes the bridge, the pods' cgroups and the node's files.
func (n *Node) close() error {
	var errs []error
	if n.cri != nil {
		if n.cmd == nil {
			if err := n.startContainerd(); err == nil {
				n.waitReady()
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		resp, err := n.cri.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
		if err != nil {
			errs = append(errs, fmt.Errorf("list pods: %w", err))
		}
		for _, sb := range resp.GetItems() {
			if err := n.removeSandbox(ctx, sb.Id, sb.GetMetadata().GetUid()); err != nil {
				errs = append(errs, err)
			}
		}
		cancel()
		n.conn.Close()
	}
	n.stopContainerd()
	n.killShims()
	removeEmptyCgroup("kubepods/besteffort")
	removeEmptyCgroup("kubepods")
	if link, err := netlink.LinkByName(n.bridge); err == nil {
		if err := netlink.LinkDel(link); err != nil {
			errs = append(errs, fmt.Errorf("delete bridge %s: %w", n.bridge, err))
		}
	}
	if n.dir != "" {
		unmountUnder(n.dir)
		if err := os.RemoveAll(n.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove node dir: %w", err))
		}
	}
	n.releaseSlot()
	return errors.Join(errs...)
}

// removeSandbox stops and removes a pod sandbox and its pod cgroups.
func (n *Node) removeSandbox(ctx context.Context, id, uid string) error {
	for attempt := 0; ; attempt++ {
		if _, err := n.cri.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
			return fmt.Errorf("stop pod %s: %w", id, err)
		}
		_, err := n.cri.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: id})
		if err == nil {
			break
		}
		// A container killed behind the CRI's back (podguard's terminate,
		// around a containerd restart) can still count as running until
		// the CRI has handled its exit: stop again and retry.
		if !strings.Contains(err.Error(), "still running") || attempt >= 50 {
			return fmt.Errorf("remove pod %s: %w", id, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.mu.Lock()
	delete(n.pods, id)
	n.mu.Unlock()
	if uid != "" {
		if err := removePodCgroups(uid); err != nil {
			return err
		}
	}
	return nil
}

// killShims kills shims this node's containerd started that outlived it.
func (n *Node) killShims() {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), "containerd-shim") {
			continue
		}
		args := strings.Split(string(b), "\x00")
		for i, a := range args {
			if a == "-address" && i+1 < len(args) && args[i+1] == n.socket {
				pid, _ := strconv.Atoi(strings.Split(p, "/")[2])
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// cgroupMounts lists the mount points of every cgroup v1 and v2 hierarchy.
func cgroupMounts() []string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil
	}
	defer f.Close()
	var mounts []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 3 && (fields[2] == "cgroup" || fields[2] == "cgroup2") {
			mounts = append(mounts, fields[1])
		}
	}
	return mounts
}

// cgroup2Mount is where the cgroup v2 hierarchy is mounted, or "".
func cgroup2Mount() string { return cgroupfs.Detect().Root }

// removePodCgroups removes kubepods/besteffort/pod<uid> from every hierarchy,
// as kubelet would once a pod is gone.
func removePodCgroups(uid string) error {
	var errs []error
	for _, m := range cgroupMounts() {
		dir := filepath.Join(m, "kubepods", "besteffort", "pod"+uid)
		if err := removeCgroupTree(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeCgroupTree removes a cgroup directory and its children, retrying while
// exiting processes still hold them.
func removeCgroupTree(dir string) error {
	var dirs []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		var err error
		for i := 0; i < 100; i++ {
			if err = syscall.Rmdir(d); err == nil || errors.Is(err, syscall.ENOENT) {
				err = nil
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("remove cgroup %s: %w", d, err)
		}
	}
	return nil
}

// removeEmptyCgroup removes rel in every hierarchy if nothing is left in it.
func removeEmptyCgroup(rel string) {
	for _, m := range cgroupMounts() {
		syscall.Rmdir(filepath.Join(m, rel))
	}
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	var targets []string
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && strings.HasPrefix(fields[1], dir+"/") {
			targets = append(targets, fields[1])
		}
	}
	sort.Slice(targets, func(i, j int) bool { return len(targets[i]) > len(targets[j]) })
	for _, t := range targets {
		syscall.Unmount(t, syscall.MNT_DETACH)
	}
}
