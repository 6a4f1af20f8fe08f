package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// volumes makes c's MemoryVolumes as kubelet makes an emptyDir with
// medium: Memory (a tmpfs mounted on a host directory of the pod, handed
// to the container as a bind mount; unmounted when the test ends, after
// the pod is gone: cleanups run last in, first out), and adds its
// HostPaths.
func (p *Pod) volumes(c *container) ([]*runtime.Mount, error) {
	var mounts []*runtime.Mount
	for _, path := range c.spec.MemoryVolumes {
		name := strings.NewReplacer("/", "-").Replace(strings.Trim(path, "/"))
		dir := filepath.Join(p.node.dir, "pods", p.UID, "volumes", c.spec.Name+"-"+name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("memory volume %s: %w", path, err)
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=64m"); err != nil {
			return nil, fmt.Errorf("memory volume %s: mount tmpfs: %w", path, err)
		}
		p.tb.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
		mounts = append(mounts, &runtime.Mount{ContainerPath: path, HostPath: dir})
	}
	for cpath, host := range c.spec.HostPaths { // hostPath volumes, as kubelet hands them over
		mounts = append(mounts, &runtime.Mount{ContainerPath: cpath, HostPath: host})
	}
	return mounts, nil
}
