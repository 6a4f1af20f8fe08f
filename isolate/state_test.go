package isolate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/trusted"
)

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	since := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	in := map[string]Record{
		"b-uid": {PodUID: "b-uid", PodName: "b", Namespace: "ns", Rule: "container-drift", Since: since,
			Mode: ModeTC, NetNSPath: "/var/run/netns/cni-1", HostIfName: "veth1", HostIfIndex: 7},
		"a-uid": {PodUID: "a-uid", Rule: "r", Since: since, Mode: ModeCgroup, HostNetwork: true,
			CgroupPath: "/sys/fs/cgroup/kubepods/poda-uid"},
	}
	key := testKey(t, dir)
	if err := saveState(dir, in, key); err != nil {
		t.Fatalf("saveState: %v", err)
	}
	out, rejected, err := loadState(dir, key)
	if err != nil || len(rejected) != 0 {
		t.Fatalf("loadState: %v, rejected %v", err, rejected)
	}
	for uid, r := range out {
		if r.MAC == "" {
			t.Errorf("record %s saved without a MAC", uid)
		}
		r.MAC = ""
		out[uid] = r
	}
	if len(out) != 2 || out["b-uid"] != in["b-uid"] || out["a-uid"] != in["a-uid"] {
		t.Fatalf("loaded %+v, want %+v", out, in)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 || ents[0].Name() != stateFile || ents[1].Name() != "state.key" {
		t.Errorf("state dir holds %v, want only %s and the key (no temp files left)", ents, stateFile)
	}
	if got := sortedRecords(out); got[0].PodUID != "a-uid" {
		t.Errorf("records not ordered by pod uid: %+v", got)
	}
}

func TestStateMissingAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	recs, _, err := loadState(dir, testKey(t, dir))
	if err != nil || len(recs) != 0 {
		t.Fatalf("missing state = %v, %v; want empty, nil", recs, err)
	}
	path := filepath.Join(dir, stateFile)
	if err := os.WriteFile(path, []byte(`{"pods": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadState(dir, testKey(t, dir)); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt state error = %v, want one naming %s", err, path)
	}
}

func testKey(tb testing.TB, dir string) *trusted.Key {
	tb.Helper()
	k, err := trusted.StateKey(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// TestStateForgedRecord: a record podguard did not sign (planted in the
// state directory to make reconcile isolate a victim pod, or edited to
// aim at another pod's veth) is returned apart and never loaded.
func TestStateForgedRecord(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t, dir)
	good := Record{PodUID: "good-uid", PodName: "web", Rule: "r", Mode: ModeTC, HostIfName: "veth1", HostIfIndex: 7}
	if err := saveState(dir, map[string]Record{good.PodUID: good}, key); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, stateFile)
	data, _ := os.ReadFile(path)
	var doc stateDoc
	json.Unmarshal(data, &doc)
	forged := Record{PodUID: "victim-uid", PodName: "payments", Mode: ModeTC, HostIfName: "veth9", MAC: doc.Pods[0].MAC} // a MAC copied from another record
	edited := doc.Pods[0]
	edited.PodUID, edited.HostIfName = "good-uid-2", "veth2" // a signed record retargeted
	unsigned := Record{PodUID: "unsigned-uid", Mode: ModeTC}
	doc.Pods = append(doc.Pods, forged, edited, unsigned)
	data, _ = json.Marshal(doc)
	os.WriteFile(path, data, 0o600)

	recs, rejected, err := loadState(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs["good-uid"].HostIfName != "veth1" {
		t.Errorf("loaded %+v, want only the signed record", recs)
	}
	var uids []string
	for _, r := range rejected {
		uids = append(uids, r.PodUID)
	}
	if strings.Join(uids, ",") != "victim-uid,good-uid-2,unsigned-uid" {
		t.Errorf("rejected %v", uids)
	}
}
