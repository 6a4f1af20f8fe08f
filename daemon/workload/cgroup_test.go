package workload

import "testing"

const (
	cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	uid = "9f3b1c2a-1111-4a2b-8c3d-0123456789ab"
)

func TestCgroupDir(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/kubepods/besteffort/pod" + uid + "/" + cid, "/kubepods/besteffort/pod" + uid + "/" + cid},
		{"/kubepods/pod" + uid + "/" + cid, "/kubepods/pod" + uid + "/" + cid}, // guaranteed QoS
		{"kubepods/burstable/pod" + uid + "/" + cid, "/kubepods/burstable/pod" + uid + "/" + cid},
		{"kubepods-besteffort-pod9f3b1c2a_1111_4a2b_8c3d_0123456789ab.slice:cri-containerd:" + cid,
			"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod9f3b1c2a_1111_4a2b_8c3d_0123456789ab.slice/cri-containerd-" + cid + ".scope"},
		{"kubepods-pod9f3b1c2a_1111_4a2b_8c3d_0123456789ab.slice:cri-containerd:" + cid,
			"/kubepods.slice/kubepods-pod9f3b1c2a_1111_4a2b_8c3d_0123456789ab.slice/cri-containerd-" + cid + ".scope"},
		{"system.slice:docker:" + cid, "/system.slice/docker-" + cid + ".scope"},
		{":cri-containerd:" + cid, "/system.slice/cri-containerd-" + cid + ".scope"},
		{"-.slice:foo:bar", "/foo-bar.scope"},
		{"", ""},
	} {
		if got := CgroupDir(tc.in); got != tc.want {
			t.Errorf("CgroupDir(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestContainerIDFromPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/kubepods/besteffort/pod" + uid + "/" + cid, cid},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod9f3b1c2a_1111_4a2b_8c3d_0123456789ab.slice/cri-containerd-" + cid + ".scope", cid},
		{"/system.slice/docker-" + cid + ".scope", cid},
		{"/kubepods/burstable/pod" + uid + "/crio-" + cid, cid},
		{"/system.slice/containerd.service", ""},
		{"/user.slice/user-1000.slice/session-3.scope", ""},
		{"/", ""},
		{"/kubepods/besteffort/pod" + uid, ""},
		{"/kubepods/besteffort/pod" + uid + "/" + cid[:63] + "g", ""},
	} {
		if got := ContainerIDFromPath(tc.in); got != tc.want {
			t.Errorf("ContainerIDFromPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPodUIDFromPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/kubepods/besteffort/pod" + uid + "/" + cid, uid},
		{"/kubepods/pod" + uid, uid},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod9f3b1c2a_1111_4a2b_8c3d_0123456789ab.slice/cri-containerd-" + cid + ".scope", uid},
		{"/kubepods.slice/kubepods-pod9f3b1c2a_1111_4a2b_8c3d_0123456789ab.slice", uid},
		{"/system.slice/docker-" + cid + ".scope", ""},
		{"/", ""},
	} {
		if got := PodUIDFromPath(tc.in); got != tc.want {
			t.Errorf("PodUIDFromPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseProcCgroup(t *testing.T) {
	podPath := "/kubepods/besteffort/pod" + uid + "/" + cid
	systemdPath := "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod9f3b1c2a_1111_4a2b_8c3d_0123456789ab.slice/cri-containerd-" + cid + ".scope"
	for _, tc := range []struct {
		name  string
		data  string
		useV2 bool
		want  string
		hasV2 bool
	}{
		{"v2", "0::" + podPath + "\n", true, podPath, true},
		{"v2 systemd", "0::" + systemdPath + "\n", true, systemdPath, true},
		{"v2 host", "0::/init.scope\n", true, "/init.scope", true},
		{"hybrid", "12:pids:" + podPath + "\n11:memory:" + podPath + "\n1:name=systemd:" + podPath + "\n0::" + podPath + "\n", true, podPath, true},
		{"hybrid host with process_api memory cgroup", "4:memory:/process_api/a0f5\n1:cpu:/\n0::/\n", true, "/", true},
		{"v1 only", "12:pids:" + podPath + "\n4:cpu,cpuacct:" + podPath + "\n1:name=systemd:" + podPath + "\n", false, podPath, false},
		{"v1 only systemd", "11:memory:" + systemdPath + "\n5:cpu,cpuacct:" + systemdPath + "\n", false, systemdPath, false},
		{"v1 only, pids elsewhere", "12:pids:/\n4:memory:" + podPath + "\n", false, podPath, false},
		{"v1 only host", "12:pids:/system.slice/sshd.service\n4:memory:/\n", false, "/system.slice/sshd.service", false},
	} {
		pc := ParseProcCgroup(tc.data)
		if pc.HasV2 != tc.hasV2 {
			t.Errorf("%s: HasV2 = %v, want %v", tc.name, pc.HasV2, tc.hasV2)
		}
		if got := pc.ContainerPath(tc.useV2); got != tc.want {
			t.Errorf("%s: ContainerPath = %q, want %q", tc.name, got, tc.want)
		}
	}
	pc := ParseProcCgroup("4:cpu,cpuacct:/a\n1:name=systemd:/b\n")
	if pc.V1["cpu"] != "/a" || pc.V1["cpuacct"] != "/a" || pc.V1["name=systemd"] != "/b" {
		t.Errorf("v1 controllers: %v", pc.V1)
	}
}

func TestUserLabels(t *testing.T) {
	got := userLabels(map[string]string{
		"app": "php", "tier": "front", "pod-template-hash": "abc",
		"io.kubernetes.pod.name": "web", "io.kubernetes.pod.uid": uid, "io.cri-containerd.kind": "sandbox",
		"io.containerd.image.config.stop-signal": "SIGTERM",
	})
	if len(got) != 3 || got["app"] != "php" || got["tier"] != "front" || got["pod-template-hash"] != "abc" {
		t.Fatalf("userLabels = %v", got)
	}
}
