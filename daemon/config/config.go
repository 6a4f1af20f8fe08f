package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/podguard/podguard/daemon/tomlfile"
	"github.com/podguard/podguard/daemon/trusted"
)

// DefaultPath is read when no --config is given and the file exists.
const DefaultPath = "/etc/podguard/config.toml"

// DefaultRulesDir is the rules directory when the config names none.
const DefaultRulesDir = "/etc/podguard/rules.d"

// Config is podguard's configuration.
type Config struct {
	Enabled    bool       `toml:"enabled"`
	Cluster    string     `toml:"cluster"`
	Node       string     `toml:"node"`
	RulesDir   string     `toml:"rules_dir"`
	StateDir   string     `toml:"state_dir"`
	DryRun     bool       `toml:"dry_run"`
	Containerd Containerd `toml:"containerd"`
	Events     Events     `toml:"events"`
	API        API        `toml:"api"`
	Policy     Policy     `toml:"policy"`
	Isolate    Isolate    `toml:"isolate"`
	Metrics    Metrics    `toml:"metrics"`
	Probes     Probes     `toml:"probes"`

	// Path is the file the config was read from; "" means built-in defaults.
	Path string `toml:"-"`
}

// Containerd says where the node's containerd listens.
type Containerd struct {
	Address   string `toml:"address"`
	Namespace string `toml:"namespace"`
}

// Events configures where events go.
type Events struct {
	File    string  `toml:"file"`
	Stdout  bool    `toml:"stdout"`
	Webhook Webhook `toml:"webhook"`
	// Retention of the evidence: the file rotates at FileMaxMiB, FileKeep
	// rotated files are kept, and rotated files older than FileMaxAge
	// ("" = no age limit) are deleted.
	FileMaxMiB int    `toml:"file_max_mib"`
	FileKeep   int    `toml:"file_keep"`
	FileMaxAge string `toml:"file_max_age"`
	// Recent events are kept in memory for `podguard events` (the file has
	// the history); RecentPerPod caps one pod's share of them.
	Recent       int `toml:"recent"`
	RecentPerPod int `toml:"recent_per_pod"`
}

// MaxAge is FileMaxAge parsed (0: no age limit); validate checked it.
func (e Events) MaxAge() time.Duration {
	d, _ := time.ParseDuration(e.FileMaxAge)
	return d
}

// Webhook posts every event to an HTTP endpoint.
type Webhook struct {
	URL string `toml:"url"` // "" for none
	// Format is "podguard" (the events file's JSON) or "falco" (Falco's
	// output format, for Falcosidekick).
	Format string `toml:"format"`
	Queue  int    `toml:"queue"` // events waiting to be posted
}

// API configures the local control socket used by the CLI.
type API struct {
	Socket string `toml:"socket"`
}

// Policy selects which rulesets of the rules directory are active here.
type Policy struct {
	// Rulesets names the active rulesets; empty means all of them.
	Rulesets []string `toml:"rulesets"`
}

// Isolate configures network isolation.
type Isolate struct {
	// Allow lists CIDRs that isolated pods may still talk to.
	Allow []string `toml:"allow"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	// Listen is host:port for /metrics; "" turns metrics off. Loopback by
	// default: expose it wider only behind your own access control.
	Listen string `toml:"listen"`
}

// Probes configures the kernel side.
type Probes struct {
	// BufferKiB is the kernel event buffer: the ring buffer's size, or
	// the perf buffers' total on kernels before 5.8. A power of two, at
	// least 64. A larger buffer rides out longer stalls of the reader at
	// the cost of memory (the ring's pages count twice in RSS).
	BufferKiB int `toml:"buffer_kib"`
	// ProcessTable is how many processes the process table holds before
	// it looks for gone ones to forget; it holds at most twice as many
	// (live processes are never forgotten; beyond, new ones are counted
	// as pressure and judged as ordinary processes).
	ProcessTable int `toml:"process_table"`
}

// Default returns the configuration used when no file exists.
func Default() *Config {
	node, _ := os.Hostname()
	return &Config{
		Enabled:    true,
		Node:       node,
		RulesDir:   DefaultRulesDir,
		StateDir:   "/var/lib/podguard",
		Containerd: Containerd{Address: "/run/containerd/containerd.sock", Namespace: "k8s.io"},
		Events:     Events{File: "/var/log/podguard/events.jsonl", FileMaxMiB: 100, FileKeep: 3, Recent: 1000, RecentPerPod: 100},
		API:        API{Socket: "/run/podguard/podguard.sock"},
		Metrics:    Metrics{Listen: "127.0.0.1:9464"},
		Probes:     Probes{BufferKiB: 2048, ProcessTable: 65536},
	}
}

// maxConfigSize bounds the config file; real ones are a few hundred bytes.
const maxConfigSize = 1 << 20

// Load reads the config file at path. With path "" it reads DefaultPath if
// that exists and otherwise returns the defaults. Problems in the file are
// returned as tomlfile.Problems (FILE:LINE: message).
func Load(path string) (*Config, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultPath
	}
	// Whoever can change the config can switch protection off (dry_run,
	// another rules directory): it is read as a trusted file, through one
	// checked descriptor.
	data, err := trusted.ReadFile(path, maxConfigSize)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return Default(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes config file contents over the defaults and validates them.
func Parse(path string, data []byte) (*Config, error) {
	c := Default()
	f, probs := tomlfile.Decode(path, data, c)
	if len(probs) == 0 {
		probs = c.validate(f)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	c.Path = path
	return c, nil
}

func (c *Config) validate(f *tomlfile.File) tomlfile.Problems {
	var probs tomlfile.Problems
	bad := func(key []any, format string, args ...any) {
		probs = append(probs, f.Problem(f.Line(key...), format, args...))
	}
	for _, p := range []struct {
		key []any
		val string
	}{
		{[]any{"rules_dir"}, c.RulesDir},
		{[]any{"state_dir"}, c.StateDir},
		{[]any{"api", "socket"}, c.API.Socket},
		{[]any{"containerd", "address"}, c.Containerd.Address},
	} {
		if !filepath.IsAbs(p.val) {
			bad(p.key, "%s must be an absolute path, got %q", joinKey(p.key), p.val)
		}
	}
	if c.Events.File != "" && !filepath.IsAbs(c.Events.File) {
		bad([]any{"events", "file"}, "events.file must be an absolute path (or \"\" to write no file), got %q", c.Events.File)
	}
	if e := c.Events; e.FileMaxMiB < 1 || e.FileMaxMiB > 1<<20 {
		bad([]any{"events", "file_max_mib"}, "events.file_max_mib = %d: give the size at which the events file rotates, in MiB (1 to 1048576), e.g. 100", e.FileMaxMiB)
	}
	if k := c.Events.FileKeep; k < 1 || k > 1000 {
		bad([]any{"events", "file_keep"}, "events.file_keep = %d: give how many rotated files to keep (1 to 1000), e.g. 3", k)
	}
	if a := c.Events.FileMaxAge; a != "" {
		if d, err := time.ParseDuration(a); err != nil || d <= 0 {
			bad([]any{"events", "file_max_age"}, "events.file_max_age = %q: give a positive duration such as \"720h\" (30 days), or \"\" for no age limit", a)
		}
	}
	if r := c.Events.Recent; r < 1 || r > 1000000 {
		bad([]any{"events", "recent"}, "events.recent = %d: give how many events to keep in memory (1 to 1000000), e.g. 1000", r)
	}
	if r := c.Events.RecentPerPod; r < 1 || r > c.Events.Recent {
		bad([]any{"events", "recent_per_pod"}, "events.recent_per_pod = %d: give one pod's share of events.recent (1 to %d), e.g. 100", r, c.Events.Recent)
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			bad([]any{"metrics", "listen"}, "metrics.listen %q is not host:port; write it like \"127.0.0.1:9464\", or \"\" to turn metrics off", c.Metrics.Listen)
		}
	}
	if n := c.Probes.ProcessTable; n < 16 || n > 1<<22 {
		bad([]any{"probes", "process_table"}, "probes.process_table = %d: give how many processes to remember (16 to 4194304), e.g. 65536", n)
	}
	if k := c.Probes.BufferKiB; k < 64 || k&(k-1) != 0 || k > 1<<20 {
		bad([]any{"probes", "buffer_kib"}, "probes.buffer_kib = %d: use a power of two from 64 to 1048576 (KiB), e.g. 2048", k)
	}
	if u := c.Events.Webhook.URL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		bad([]any{"events", "webhook", "url"}, "events.webhook.url %q must start with http:// or https://", u)
	}
	switch c.Events.Webhook.Format {
	case "", "podguard", "falco":
	default:
		bad([]any{"events", "webhook", "format"}, "events.webhook.format %q: use \"podguard\" or \"falco\" (for Falcosidekick)", c.Events.Webhook.Format)
	}
	if c.Containerd.Namespace == "" {
		bad([]any{"containerd", "namespace"}, "containerd.namespace must not be empty; Kubernetes pods live in \"k8s.io\"")
	}
	if c.Node == "" {
		bad([]any{"node"}, "node must not be empty; leave it out to use the hostname")
	}
	for i, a := range c.Isolate.Allow {
		if _, err := netip.ParsePrefix(a); err != nil {
			bad([]any{"isolate", "allow"}, "isolate.allow[%d] %q is not a CIDR; write it like \"10.0.0.1/32\" or \"fd00::/64\"", i, a)
		}
	}
	seen := map[string]bool{}
	for _, n := range c.Policy.Rulesets {
		if seen[n] {
			bad([]any{"policy", "rulesets"}, "policy.rulesets lists %q twice; list each ruleset once", n)
		}
		seen[n] = true
	}
	return probs
}

// AllowPrefixes returns isolate.allow parsed; Parse has validated it.
func (c *Config) AllowPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, a := range c.Isolate.Allow {
		if p, err := netip.ParsePrefix(a); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

func joinKey(key []any) string {
	s := ""
	for i, k := range key {
		if i > 0 {
			s += "."
		}
		s += fmt.Sprint(k)
	}
	return s
}

// LoadForClient is Load for CLI commands that only need to find the daemon:
// when the file has problems it still returns what could be read (over the
// defaults) together with the problems, so `podguard status` can reach a
// daemon whose config was just broken by an edit.
func LoadForClient(path string) (*Config, error) {
	c, err := Load(path)
	if err == nil {
		return c, nil
	}
	var probs tomlfile.Problems
	if !errors.As(err, &probs) {
		return nil, err
	}
	if path == "" {
		path = DefaultPath
	}
	c = Default()
	if data, rerr := os.ReadFile(path); rerr == nil {
		toml.Decode(string(data), c) // best effort: unknown keys and bad values are ignored
	}
	return c, probs
}
