package isolate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	if err := saveState(dir, in); err != nil {
		t.Fatalf("saveState: %v", err)
	}
	out, err := loadState(dir)
	if err != nil {
		t.Fatalf("loadState: %v", err)
	}
	if len(out) != 2 || out["b-uid"] != in["b-uid"] || out["a-uid"] != in["a-uid"] {
		t.Fatalf("loaded %+v, want %+v", out, in)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != stateFile {
		t.Errorf("state dir holds %v, want only %s (no temp files left)", ents, stateFile)
	}
	if got := sortedRecords(out); got[0].PodUID != "a-uid" {
		t.Errorf("records not ordered by pod uid: %+v", got)
	}
}

func TestStateMissingAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	recs, err := loadState(dir)
	if err != nil || len(recs) != 0 {
		t.Fatalf("missing state = %v, %v; want empty, nil", recs, err)
	}
	path := filepath.Join(dir, stateFile)
	if err := os.WriteFile(path, []byte(`{"pods": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadState(dir); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt state error = %v, want one naming %s", err, path)
	}
}
