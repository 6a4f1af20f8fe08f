// Package node brings up a private Kubernetes-like node for tests: its own
// containerd (CRI on, runc with cgroupfs), a CNI bridge with a subnet of its
// own, a local busybox image, and pods made through the CRI API with
// kubelet-style metadata, labels and cgroup parents
// (/kubepods/besteffort/pod<uid>).
//
// Contract:
//   - Start skips a test when not root and fails it, naming the Debian
//     packages, when containerd, runc, the CNI plugins or busybox are missing.
//   - Under RunTests (from TestMain) every test of the process shares one
//     node; without it each Start makes a node that ends with its test.
//   - Everything made is removed: pods (by their test's cleanup), their
//     netns, veths and cgroup directories, and when the node stops its
//     containerd, shims, bridge and files. Concurrent test processes get
//     different bridges and subnets (pgtestN, 10.88.(64+N).0/24).
//   - Pods get no default route: they reach only the node's subnet.
//
// Use:
//
//	func TestMain(m *testing.M) { os.Exit(node.RunTests(m)) }
//
//	func TestShell(t *testing.T) {
//		n := node.Start(t)
//		p := n.CreatePod(t, node.PodSpec{Name: "web", Namespace: "shop",
//			Labels:     map[string]string{"app": "php"},
//			Containers: []node.ContainerSpec{{Name: "app"}}})
//		out, code := p.Exec(t, "app", "sh", "-c", "id -u")
//		cg := p.CgroupID("app") // == bpf_get_current_cgroup_id() in the container
//		veth := p.HostVeth()    // host side of the pod's eth0, on n.Bridge()
//		...
//	}
package node
