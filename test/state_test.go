package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/api"
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
