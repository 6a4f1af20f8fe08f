package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Namespace is the containerd namespace CRI keeps its pods in.
const Namespace = "k8s.io"

const (
	cniBinDir = "/usr/lib/cni"
	lockDir   = "/run/podguard-testnode"
	maxSlots  = 32
)

// Node is a private containerd with CRI and CNI, as a kubelet would use it.
type Node struct {
	dir    string // temp dir holding config, sockets, root, state, logs
	socket string
	slot   int
	lock   *os.File
	bridge string // CNI bridge, unique per running node
	subnet string // pod subnet, unique per running node

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited

	conn *grpc.ClientConn
	cri  runtime.RuntimeServiceClient
	pods map[string]*Pod // by sandbox id
}

var shared struct {
	mu     sync.Mutex
	inMain bool
	node   *Node
	err    error
}

// RunTests runs the tests of m and stops the node shared by them, if one was
// started. Use it from TestMain: os.Exit(node.RunTests(m)).
func RunTests(m *testing.M) int {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.node != nil {
		if err := shared.node.close(); err != nil {
			fmt.Fprintf(os.Stderr, "test node: stop: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
		shared.node = nil
	}
	return code
}

// Start returns a running node. Under RunTests all tests of the process share
// one node, started on first use; otherwise each call starts a node that is
// stopped when tb ends. Start skips tb when not root and fails it when a
// needed binary is missing.
func Start(tb testing.TB) *Node {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: runs containerd, runc and CNI")
	}
	if err := checkBinaries(); err != nil {
		tb.Fatal(err)
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		n, err := start()
		if err != nil {
			tb.Fatalf("start test node: %v", err)
		}
		tb.Cleanup(func() {
			if err := n.close(); err != nil {
				tb.Errorf("stop test node: %v", err)
			}
		})
		return n
	}
	if shared.node == nil && shared.err == nil {
		shared.node, shared.err = start()
	}
	if shared.err != nil {
		tb.Fatalf("start test node: %v", shared.err)
	}
	return shared.node
}

// checkBinaries reports missing host binaries with the packages that bring them.
func checkBinaries() error {
	var missing []string
	for _, bin := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	for _, p := range []string{cniBinDir + "/bridge", cniBinDir + "/host-local", cniBinDir + "/loopback", busyboxPath} {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("test node needs %s: apt-get install containerd runc containernetworking-plugins busybox-static iproute2",
			strings.Join(missing, ", "))
	}
	return nil
}

func start() (*Node, error) {
	n := &Node{pods: map[string]*Pod{}}
	if err := n.acquireSlot(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("podguard-node%d-", n.slot))
	if err != nil {
		n.releaseSlot()
		return nil, fmt.Errorf("create node dir: %w", err)
	}
	n.dir = dir
	n.socket = filepath.Join(dir, "containerd.sock")
	if err := n.boot(); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

func (n *Node) boot() error {
	if err := n.writeConfigs(); err != nil {
		return err
	}
	if err := n.startContainerd(); err != nil {
		return err
	}
	if err := n.dial(); err != nil {
		return err
	}
	tar, err := buildImageTar(n.dir)
	if err != nil {
		return err
	}
	out, err := exec.Command("ctr", "--address", n.socket, "--connect-timeout", "5s", "-n", Namespace,
		"images", "import", tar).CombinedOutput()
	if err != nil {
		return fmt.Errorf("import image %s: %w: %s", ImageRef, err, out)
	}
	return n.waitReady()
}

func (n *Node) dial() error {
	conn, err := grpc.NewClient("unix://"+n.socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dial cri: %w", err)
	}
	n.conn = conn
	n.cri = runtime.NewRuntimeServiceClient(conn)
	return nil
}

// Socket is the containerd gRPC socket of the node.
func (n *Node) Socket() string { return n.socket }

// Namespace is the containerd namespace of the node's pods ("k8s.io").
func (n *Node) Namespace() string { return Namespace }

// Image is the local image pods and sandboxes run.
func (n *Node) Image() string { return ImageRef }

// Bridge is the name of the node's CNI bridge (host side of every pod veth).
func (n *Node) Bridge() string { return n.bridge }

// Subnet is the node's pod subnet in CIDR notation.
func (n *Node) Subnet() string { return n.subnet }

// CRI is a CRI runtime client connected to the node.
func (n *Node) CRI() runtime.RuntimeServiceClient { return n.cri }

// StopContainerd stops the node's containerd; pods and their shims keep
// running. If tb ends with containerd still stopped, it is started again so
// later tests find the node working.
func (n *Node) StopContainerd(tb testing.TB) {
	tb.Helper()
	if err := n.stopContainerd(); err != nil {
		tb.Fatalf("stop containerd: %v", err)
	}
	tb.Cleanup(func() {
		n.mu.Lock()
		stopped := n.cmd == nil
		n.mu.Unlock()
		if stopped {
			n.StartContainerd(tb)
		}
	})
}

// StartContainerd starts the node's containerd again and waits until CRI is ready.
func (n *Node) StartContainerd(tb testing.TB) {
	tb.Helper()
	if err := n.startContainerd(); err != nil {
		tb.Fatalf("start containerd: %v", err)
	}
	if err := n.waitReady(); err != nil {
		tb.Fatalf("start containerd: %v", err)
	}
}

func (n *Node) startContainerd() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return errors.New("containerd already running")
	}
	logf, err := os.OpenFile(filepath.Join(n.dir, "containerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open containerd log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command("containerd", "--config", n.configPath())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run containerd: %w", err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(n.done)
	os.WriteFile(n.pidFile(), []byte(strconv.Itoa(cmd.Process.Pid)+" "+n.dir+"\n"), 0o644)
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := os.Stat(n.socket); err == nil {
			return nil
		}
		select {
		case <-n.done:
			return fmt.Errorf("containerd exited: %s", n.logTail())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("containerd socket %s did not appear: %s", n.socket, n.logTail())
		}
	}
}

func (n *Node) stopContainerd() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return nil
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
	n.cmd = nil
	os.Remove(n.pidFile())
	os.Remove(n.socket)
	return nil
}

// waitReady waits until CRI reports runtime and network ready.
func (n *Node) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last error
	for {
		resp, err := n.cri.Status(ctx, &runtime.StatusRequest{})
		if err == nil {
			ready := 0
			for _, c := range resp.GetStatus().GetConditions() {
				if (c.Type == runtime.RuntimeReady || c.Type == runtime.NetworkReady) && c.Status {
					ready++
				}
			}
			if ready == 2 {
				return nil
			}
			err = fmt.Errorf("cri not ready: %v", resp.GetStatus().GetConditions())
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for cri: %w (%s)", last, n.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (n *Node) logTail() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "containerd.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}
