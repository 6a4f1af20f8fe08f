package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/test/node"
)

// TestPlantedStateIsNotTrusted: what someone who can write podguard's
// directories plants there is not acted on. A forged isolation record
// aimed at a victim pod's veth is ignored at the next start and reported
// (status, log), and the victim keeps its network; a symlink planted at
// the events file's path is not followed (the file it points to stays as
// it was) and events go on in a new file; the API socket is root-only.
func TestPlantedStateIsNotTrusted(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"log.toml": "name = \"log\"\n[labels]\napp = \"state-victim\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n"})
	victim := n.CreatePod(t, sleeper("state-victim", map[string]string{"app": "state-victim"}))
	gw := gateway(t, n)
	if !reaches(t, victim, gw) {
		t.Fatal("the pod cannot reach the gateway before anything happened")
	}
	sock := filepath.Join(in.dir, "run", "podguard.sock")
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("api socket %v, %v; want a 0600 socket", fi, err)
	}
	in.stop(t)

	state := filepath.Join(in.dir, "state", "isolated.json")
	forged, _ := json.Marshal(map[string]any{"version": 2, "pods": []map[string]any{{
		"pod_uid": victim.UID, "pod_name": victim.Name, "namespace": "default", "rule": "shadow-file-read",
		"since": time.Now(), "mode": "tc", "host_if_name": victim.HostVeth(), "mac": strings.Repeat("ab", 32)}}})
	if err := os.WriteFile(state, forged, 0o600); err != nil {
		t.Fatal(err)
	}
	eventsFile := filepath.Join(in.dir, "events.jsonl")
	target := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(target, []byte("root:x:0:0::/root:/bin/sh\n"), 0o644)
	os.Remove(eventsFile)
	if err := os.Symlink(target, eventsFile); err != nil {
		t.Fatal(err)
	}

	in.start(t)
	st := in.waitStatus(t, 30*time.Second, "containerd connected and the forged record reported", func(s api.Status) bool {
		return s.Containerd.Connected && len(s.RejectedState) == 1
	})
	if st.RejectedState[0].UID != victim.UID || len(st.Isolated) != 0 {
		t.Errorf("rejected %+v, isolated %+v; want the forged record rejected and nothing isolated", st.RejectedState, st.Isolated)
	}
	if i, e := podguardFilters(t, victim.HostVeth()); i != 0 || e != 0 {
		t.Errorf("filters on the victim's veth after the forged record: ingress %d egress %d", i, e)
	}
	if !reaches(t, victim, gw) {
		t.Error("the victim lost its network to a forged isolation record")
	}
	if !strings.Contains(in.log.String(), "integrity check failed") {
		t.Errorf("the log does not report the forged record:\n%s", in.log)
	}
	out, _, _ := podguard(t, "status", "--config", in.config)
	if !strings.Contains(out, "ignored isolation records") || !strings.Contains(out, victim.UID) {
		t.Errorf("status does not show the ignored record:\n%s", out)
	}

	victim.Exec(t, "app", "cat", "/etc/shadow")
	in.waitEvent(t, victim, "shadow-file-read")
	if data, _ := os.ReadFile(target); string(data) != "root:x:0:0::/root:/bin/sh\n" {
		t.Errorf("podguard wrote through the planted symlink: %s now %q", target, data)
	}
	if fi, err := os.Lstat(eventsFile); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("events file %v, %v; want a new regular 0600 file", fi, err)
	}
	if m, _ := filepath.Glob(eventsFile + ".untrusted-*"); len(m) != 1 {
		t.Errorf("the planted link was not kept aside: %v", m)
	}
}

// TestSharedSocketDirectoryRefused: podguard does not serve its API from
// a directory others can write; it says so and which command fixes it.
func TestSharedSocketDirectoryRefused(t *testing.T) {
	in := newInstance(t, "")
	run := filepath.Join(in.dir, "run")
	os.Mkdir(run, 0o777)
	os.Chmod(run, 0o777)
	_, stderr, code := podguard(t, "run", "--config", in.config)
	if code == 0 || !strings.Contains(stderr, "writable by group or others (mode 0777)") || !strings.Contains(stderr, "chmod go-w "+run) {
		t.Errorf("run with a world-writable socket directory: exit %d, stderr %q", code, stderr)
	}
}

// memoryCgroup makes a cgroup with a memory limit beside the test's own
// (cgroup v1 memory controller, or cgroup v2 with memory enabled) and
// returns its directory.
func memoryCgroup(t *testing.T, limit string) string {
	t.Helper()
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var dir, file string
	for _, l := range strings.Split(string(self), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if strings.Contains(","+parts[1]+",", ",memory,") {
			dir, file = filepath.Join("/sys/fs/cgroup/memory", parts[2]), "memory.limit_in_bytes"
		} else if parts[0] == "0" && dir == "" {
			if ctl, _ := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control"); strings.Contains(string(ctl), "memory") {
				dir, file = filepath.Join("/sys/fs/cgroup", parts[2]), "memory.max"
			}
		}
	}
	if dir == "" {
		t.Skip("no memory controller podguard's test can use on this host")
	}
	cg := filepath.Join(dir, fmt.Sprintf("podguard-test-%d", os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatalf("make memory cgroup: %v", err)
	}
	t.Cleanup(func() { os.Remove(cg) })
	if err := os.WriteFile(filepath.Join(cg, file), []byte(limit), 0o644); err != nil {
		t.Fatalf("set memory limit: %v", err)
	}
	return cg
}

// TestMemoryLimitReported: podguard run under a memory limit (the unit's
// MemoryMax) knows it and reports its use against it.
func TestMemoryLimitReported(t *testing.T) {
	in := newInstance(t, "")
	in.cgroup = memoryCgroup(t, "268435456")
	in.start(t)
	st := in.waitStatus(t, 10*time.Second, "memory reported", func(s api.Status) bool { return s.Memory.Limit > 0 })
	if st.Memory.Limit != 256<<20 || st.Memory.Usage <= 0 || st.Memory.Usage > st.Memory.Limit || st.Memory.Near {
		t.Errorf("memory status %+v, want usage under a 256 MiB limit", st.Memory)
	}
	out, _, _ := podguard(t, "status", "--config", in.config)
	if !strings.Contains(out, "of 256 MiB (the unit's MemoryMax)") {
		t.Errorf("status does not show the limit:\n%s", out)
	}
}

// cgiServer is a pod whose web server runs a CGI script that runs a
// shell: the shape of a remote code execution.
func cgiServer(name, label string, hostPaths map[string]string) node.PodSpec {
	return node.PodSpec{Name: name, Labels: map[string]string{"app": label}, Containers: []node.ContainerSpec{{
		Name: "app",
		Command: []string{"sh", "-c", `mkdir -p /www/cgi-bin &&
printf '#!/bin/sh\necho Content-Type: text/plain\necho\nid\n' > /www/cgi-bin/run && chmod 755 /www/cgi-bin/run &&
exec httpd -f -p 8080 -h /www`},
		HostPaths: hostPaths,
	}}}
}

// TestServerShellAfterRestart: podguard restarts while a web server
// runs; the shell the server spawns afterwards is still the server's (not
// taken for a kubectl exec session) and raises shell-spawned-by-server.
func TestServerShellAfterRestart(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"log.toml": strings.Replace(logAllPHP, `app = "php"`, `app = "restart-srv"`, 1)})
	p := n.CreatePod(t, cgiServer("restart-srv", "restart-srv", nil))
	p.Exec(t, "app", "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do nc -z 127.0.0.1 8080 && break; sleep 0.2; done")
	in.stop(t)
	in.start(t)
	in.waitStatus(t, 30*time.Second, "containerd connected and probes attached after the restart", func(s api.Status) bool {
		return s.Containerd.Connected && len(s.Probes.Attached) > 0 && s.Probes.Watched > 0
	})
	p.Exec(t, "app", "sh", "-c", "wget -q -O /dev/null http://127.0.0.1:8080/cgi-bin/run; true")
	ev := in.waitEvent(t, p, "shell-spawned-by-server")
	if ev.Rule.Technique != "T1190" || ev.Details["server_exe"] == nil {
		t.Errorf("event %+v", ev)
	}
}

// TestEvidenceTruncatedThroughHostPath: a pod with a hostPath over
// podguard's events directory truncates the evidence: the tamper rule
// fires (the directory is among podguard's own paths).
func TestEvidenceTruncatedThroughHostPath(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"log.toml": strings.Replace(logAllPHP, `app = "php"`, `app = "evidence"`, 1)})
	p := n.CreatePod(t, cgiServer("evidence", "evidence", map[string]string{"/host/var/log/podguard": in.dir}))
	p.Exec(t, "app", "sh", "-c", ": > /host/var/log/podguard/events.jsonl")
	ev := in.waitEvent(t, p, "podguard-tamper")
	if ev.Details["path"] != "/host/var/log/podguard/events.jsonl" || ev.Rule.Technique != "T1562.001" {
		t.Errorf("tamper event %+v", ev)
	}
}

// TestProcessTableFlood: a pod that starts more processes than the table
// holds (its size lowered to 16) cannot make an older process of it be
// forgotten and taken for the runtime: the older shell's read of
// /etc/shadow after the flood is still judged, and the pressure counted.
func TestProcessTableFlood(t *testing.T) {
	n, in := guardedNode(t, "[probes]\nprocess_table = 16\n", map[string]string{"log.toml": strings.Replace(logAllPHP, `app = "php"`, `app = "flood-procs"`, 1)})
	p := n.CreatePod(t, sleeper("flood-procs", map[string]string{"app": "flood-procs"}))
	p.Exec(t, "app", "sh", "-c", "for i in $(seq 60); do sleep 120 >/dev/null 2>&1 & done; sleep 1; read x < /etc/shadow; true")
	ev := in.waitEvent(t, p, "shadow-file-read")
	if !strings.Contains(strings.Join(ev.Process.Args, " "), "seq 60") || ev.Rule.Technique != "T1003.008" {
		t.Errorf("the read is not the older shell's: %+v", ev.Process)
	}
	st := in.waitStatus(t, 10*time.Second, "process table pressure counted", func(s api.Status) bool {
		return s.Counters["process_table_pressure"] > 0
	})
	if size := st.Counters["process_table"]; size > 32 {
		t.Errorf("process table holds %d entries, more than twice its size of 16", size)
	}
}
