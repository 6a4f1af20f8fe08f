package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podguard/podguard/daemon/tomlfile"
)

func TestDefaults(t *testing.T) {
	c, err := Parse("/etc/podguard/config.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if !c.Enabled || c.Node != host || c.RulesDir != DefaultRulesDir || c.StateDir != "/var/lib/podguard" ||
		c.Containerd.Address != "/run/containerd/containerd.sock" || c.Containerd.Namespace != "k8s.io" ||
		c.Events.File != "/var/log/podguard/events.jsonl" || c.API.Socket != "/run/podguard/podguard.sock" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestParseOverrides(t *testing.T) {
	src := `enabled = false
cluster = "prod-eu"
node = "node-7"
dry_run = true
[containerd]
address = "/tmp/c.sock"
[policy]
rulesets = ["php", "default"]
[isolate]
allow = ["10.0.0.10/32", "fd00::/64"]
[probes]
buffer_kib = 8192
`
	c, err := Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.Enabled || c.Cluster != "prod-eu" || c.Node != "node-7" || !c.DryRun || c.Containerd.Address != "/tmp/c.sock" ||
		c.Containerd.Namespace != "k8s.io" || len(c.Policy.Rulesets) != 2 || len(c.AllowPrefixes()) != 2 || c.Probes.BufferKiB != 8192 {
		t.Fatalf("config = %+v", c)
	}
}

func TestParseProblems(t *testing.T) {
	cases := map[string]struct{ src, want string }{
		"unknown key":   {"enabled = true\nenable = false\n", `c.toml:2: unknown key "enable"; valid keys there are: api, cluster, containerd, dry_run, enabled, events, isolate, metrics, node, policy, probes, rules_dir, state_dir`},
		"unknown table": {"[event]\nfile = \"/x\"\n", `c.toml:1: unknown key "event"; valid keys there are: api, cluster, containerd, dry_run, enabled, events, isolate, metrics, node, policy, probes, rules_dir, state_dir`},
		"nested key":    {"[containerd]\nsocket = \"/x\"\n", `c.toml:2: unknown key "socket" in [containerd]; valid keys there are: address, namespace`},
		"wrong type":    {"enabled = \"yes\"\n", `c.toml:1: wrong type for "enabled": TOML value has type string; destination has type boolean`},
		"relative path": {"rules_dir = \"rules.d\"\n", `c.toml:1: rules_dir must be an absolute path, got "rules.d"`},
		"bad cidr":      {"[isolate]\nallow = [\"10.0.0.1\"]\n", `c.toml:2: isolate.allow[0] "10.0.0.1" is not a CIDR; write it like "10.0.0.1/32" or "fd00::/64"`},
		"buffer size":   {"[probes]\nbuffer_kib = 3000\n", `c.toml:2: probes.buffer_kib = 3000: use a power of two from 64 to 1048576 (KiB), e.g. 2048`},
		"process table": {"[probes]\nprocess_table = 8\n", `c.toml:2: probes.process_table = 8: give how many processes to remember (16 to 4194304), e.g. 65536`},
		"rotation size": {"[events]\nfile_max_mib = 0\n", `c.toml:2: events.file_max_mib = 0: give the size at which the events file rotates, in MiB (1 to 1048576), e.g. 100`},
		"files kept":    {"[events]\nfile_keep = -1\n", `c.toml:2: events.file_keep = -1: give how many rotated files to keep (1 to 1000), e.g. 3`},
		"max age":       {"[events]\nfile_max_age = \"30d\"\n", `c.toml:2: events.file_max_age = "30d": give a positive duration such as "720h" (30 days), or "" for no age limit`},
		"per-pod share": {"[events]\nrecent = 50\nrecent_per_pod = 100\n", `c.toml:3: events.recent_per_pod = 100: give one pod's share of events.recent (1 to 50), e.g. 100`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(c.src))
			var probs tomlfile.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("err = %v, want problems", err)
			}
			if probs.Error() != c.want {
				t.Fatalf("got  %q\nwant %q", probs.Error(), c.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "read config") {
		t.Fatalf("explicit missing file: err = %v", err)
	}
}
