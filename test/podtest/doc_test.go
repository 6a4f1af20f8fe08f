// Package podtest checks the probes against real pods: containerd, runc,
// an overlayfs image rootfs and kubelet-style cgroups from test/node.
// It only has tests; it needs root and Debian's containerd, runc,
// containernetworking-plugins and busybox-static.
package podtest

import (
	"os"
	"testing"

	"github.com/podguard/podguard/test/node"
	"github.com/podguard/podguard/test/testbin"
)

func TestMain(m *testing.M) {
	code := node.RunTests(m)
	testbin.Cleanup()
	os.Exit(code)
}
