package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// containerdConfig is a containerd 1.6 (config version 2) file for a private
// instance: own socket, root, state and runc root; CRI on with cgroupfs runc,
// restricted oom_score_adj (the VM lacks CAP_SYS_RESOURCE), the local busybox
// image as sandbox image and a CNI conf dir of its own.
const containerdConfig = `version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

[plugins."io.containerd.internal.v1.opt"]
  path = %[5]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[6]q
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %[7]q

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[8]q
    conf_dir = %[9]q
    max_conf_num = 1
`

// writeConfigs writes the containerd config and the CNI conflist of n.
func (n *Node) writeConfigs() error {
	cfg := fmt.Sprintf(containerdConfig,
		filepath.Join(n.dir, "root"), filepath.Join(n.dir, "state"),
		n.socket, n.socket+".ttrpc", filepath.Join(n.dir, "opt"),
		ImageRef, filepath.Join(n.dir, "runc"), cniBinDir, n.cniConfDir())
	if err := writeAtomic(n.configPath(), []byte(cfg)); err != nil {
		return fmt.Errorf("write containerd config: %w", err)
	}
	conflist, err := json.MarshalIndent(map[string]any{
		"cniVersion": "0.4.0",
		"name":       n.bridge,
		"plugins": []any{map[string]any{
			"type":        "bridge",
			"bridge":      n.bridge,
			"isGateway":   true,
			"ipMasq":      false,
			"hairpinMode": true,
			"ipam": map[string]any{
				"type":    "host-local",
				"ranges":  [][]map[string]string{{{"subnet": n.subnet}}},
				"routes":  []any{},
				"dataDir": filepath.Join(n.dir, "ipam"),
			},
		}},
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode cni conflist: %w", err)
	}
	if err := os.MkdirAll(n.cniConfDir(), 0o755); err != nil {
		return fmt.Errorf("create cni conf dir: %w", err)
	}
	if err := writeAtomic(filepath.Join(n.cniConfDir(), "10-"+n.bridge+".conflist"), conflist); err != nil {
		return fmt.Errorf("write cni conflist: %w", err)
	}
	return nil
}

func (n *Node) configPath() string { return filepath.Join(n.dir, "containerd.toml") }
func (n *Node) cniConfDir() string { return filepath.Join(n.dir, "cni") }

// writeAtomic writes data to a temporary file in path's directory and
// renames it over path, so a watcher never reads a half-written file.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
