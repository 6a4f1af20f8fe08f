package cli

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/daemon/tomlfile"
)

// sampleStatus is a daemon with something to say in every part of the
// status: a config problem, lost events, containerd down, an isolated pod,
// a ruleset in error.
func sampleStatus() api.Status {
	started := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return api.Status{
		Version: "1.2.3", PID: 4242, Started: started, Node: "node-a", Cluster: "prod", Enabled: true, DryRun: true, Metrics: "127.0.0.1:9469",
		Config: api.ConfigStatus{File: "/etc/podguard/config.toml", State: rulesets.StateError,
			Problems: tomlfile.Problems{{File: "/etc/podguard/config.toml", Line: 4, Msg: "unknown key \"enable\""}}},
		Rules: api.RulesStatus{Source: "/etc/podguard/rules.d", Generation: 7, Active: []string{"default", "php"}, MissingPolicy: []string{"java"},
			Note: "rules directory reloaded after a rename",
			Files: []rulesets.FileStatus{
				{File: "/etc/podguard/rules.d/00-default.toml", Name: "default", State: rulesets.StateOK, InPolicy: true, Since: started},
				{File: "/etc/podguard/rules.d/php.toml", Name: "php", State: rulesets.StateError, LastGood: true, InPolicy: true, Since: started,
					Problems: tomlfile.Problems{{File: "/etc/podguard/rules.d/php.toml", Line: 6, Msg: "unknown rule id \"container-drfit\""}}},
				{File: "/etc/podguard/rules.d/new.toml", State: rulesets.StateError, Since: started,
					Problems: tomlfile.Problems{{File: "/etc/podguard/rules.d/new.toml", Line: 1, Msg: "name is required"}}},
				{File: "/etc/podguard/rules.d/spare.toml", Name: "spare", State: rulesets.StateOK, Since: started},
			}},
		Probes: api.ProbesStatus{Attached: []string{"sys_enter", "sched_process_exec"}, Watched: 3, Transport: "ring buffer", SyscallHook: "raw tracepoint",
			HookSet: "tracepoints", HookSetReason: "no BPF-LSM: attach an lsm/file_open program: operation not permitted",
			Events: map[string]uint64{"exec": 10}, Drops: map[string]api.KindDrops{"open": {Ring: 2, Queue: 1}}, Unreadable: map[string]uint64{"connect": 3}},
		Containerd: api.ContainerdStatus{Address: "/run/containerd/containerd.sock", Namespace: "k8s.io", LastError: "connection refused", Pods: 2, Containers: 3, CgroupMode: "hybrid"},
		Isolated:   []api.IsolatedPod{{Pod: "shop/web", UID: "u-1", Rule: "container-drift", Since: started, Mode: "tc", HostIf: "veth1234"}},
		Counters:   map[string]uint64{"rule_reloads": 3, "kernel_lost_unattributed": 5, "rule_matches": 12},
	}
}

// sampleStatusTable is `podguard status` for sampleStatus.
var sampleStatusTable = strings.Join([]string{
	"podguard 1.2.3, pid 4242, up since 2025-03-01 12:00:00 UTC",
	"node:     node-a (cluster prod)",
	"enabled:  yes",
	"dry run:  yes (mitigations are reported, not applied)",
	"config:   /etc/podguard/config.toml [error]",
	"metrics:  http://127.0.0.1:9469/metrics",
	"          /etc/podguard/config.toml:4: unknown key \"enable\"",
	"probes:   2 attached, 3 container cgroup(s) watched",
	"          events through the ring buffer; syscalls hooked by raw tracepoint",
	"          opens and connects judged by syscall exit, hook set tracepoints: raw_syscalls:sys_exit (no BPF-LSM: attach an lsm/file_open program: operation not permitted)",
	"          lost open events: 2 in the kernel buffer, 0 beyond the pod's fair share, 1 in the queue",
	"          3 connect events with an argument the kernel could not read (reported, marked unreadable)",
	"          lost 5 events of unknown kind in the kernel (perf buffer overruns, probe runs the kernel skipped)",
	"containerd: /run/containerd/containerd.sock NOT connected (connection refused), namespace k8s.io; 2 pod(s), 3 container(s) watched; cgroups hybrid",
	"isolated pods:",
	"  shop/web (uid u-1) by rule container-drift since 2025-03-01T12:00:00Z [tc veth1234]",
	"rules:    from /etc/podguard/rules.d, generation 7, 2 ruleset(s) in force",
	"          rules directory reloaded after a rename",
	"          [policy] names \"java\" but no file defines it",
	"",
	"FILE                                   RULESET  STATE  DETAIL",
	"/etc/podguard/rules.d/00-default.toml  default  ok     ",
	"/etc/podguard/rules.d/php.toml         php      error  last good version still enforcing",
	"                                                       /etc/podguard/rules.d/php.toml:6: unknown rule id \"container-drfit\"",
	"/etc/podguard/rules.d/new.toml         -        error  nothing from this file is enforcing",
	"                                                       /etc/podguard/rules.d/new.toml:1: name is required",
	"/etc/podguard/rules.d/spare.toml       spare    ok     not in [policy] rulesets: inactive",
	"",
	"counters:",
	"  kernel_lost_unattributed     5",
	"  rule_matches                 12",
	"  rule_reloads                 3",
	"",
}, "\n")

// statusDaemon serves st as a daemon's status and returns a config that
// points the CLI at it.
func statusDaemon(tb testing.TB, st api.Status) string {
	tb.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.StatusPath, serveJSON(st))
	sock := fakeDaemon(tb, mux)
	return writeConfig(tb, sock, filepath.Join(tb.TempDir(), "events.jsonl"), "")
}

func TestStatusTable(t *testing.T) {
	cfg := statusDaemon(t, sampleStatus())
	stdout, stderr, code := runCLI(t, "status", "--config", cfg)
	if code != 0 || stderr != "" {
		t.Fatalf("status: exit %d, stderr %q", code, stderr)
	}
	if stdout != sampleStatusTable {
		t.Errorf("status printed\n%s\nwant\n%s", stdout, sampleStatusTable)
	}
}

func TestStatusJSON(t *testing.T) {
	want := sampleStatus()
	cfg := statusDaemon(t, want)
	stdout, _, code := runCLI(t, "status", "--json", "--config", cfg)
	var got api.Status
	if err := json.Unmarshal([]byte(stdout), &got); code != 0 || err != nil {
		t.Fatalf("status --json: exit %d, %v:\n%s", code, err, stdout)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("status --json = %+v\nwant %+v", got, want)
	}
	if !strings.HasPrefix(stdout, "{\n  \"version\": \"1.2.3\",\n") {
		t.Errorf("JSON not indented:\n%.80s", stdout)
	}
}

func TestStatusNotRunning(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "podguard.sock")
	cfg := writeConfig(t, sock, filepath.Join(dir, "events.jsonl"), "")
	stdout, stderr, code := runCLI(t, "status", "--config", cfg)
	want := "podguard status: podguard is not running: nothing answers on " + sock +
		"; start it with `podguard run` (or `systemctl start podguard`), or pass the --config the daemon uses\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("status with no daemon: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
