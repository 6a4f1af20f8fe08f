package engine

import (
	"slices"
	"strings"
	"testing"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/probes"
)

// checkOpenFilter runs from world.handle: an open event that some rule
// matched must pass the kernel's open prefilter for the rules in force,
// by its Go mirror. Every open case of every engine test goes through it.
func checkOpenFilter(w *world, ev *probes.Record, matched []string) {
	w.t.Helper()
	if ev.Kind != probes.KindOpen || len(matched) == 0 {
		return
	}
	raw := ev.RawPath
	if raw == "" {
		raw = ev.Path
	}
	if f := w.e.tab.openFilter(w.e.rules.Load()); !f.Passes(raw, ev.FileFlags) {
		w.t.Errorf("open %q flags %#o matches %v, but the kernel's open prefilter would hide it", raw, ev.FileFlags, matched)
	}
}

// TestOpenFilterMirror opens a corpus of paths with a spread of flags and
// modes from a shell and from other processes, under every rule: each
// open a rule matches must pass the prefilter (checked in world.handle),
// and every open-consuming rule must match at least once, so that the
// corpus really exercises each declaration.
func TestOpenFilterMirror(t *testing.T) {
	paths := []string{
		"/proc/1/mem", "/proc/2/mem", "/proc/self/mem", "/proc/1/task/1/mem", "/proc/1/environ", "/proc/33/exe", "/proc/self/exe",
		"/dev/sda", "/dev/sda1", "/dev/nvme0n1", "/dev/vdb", "/dev/xvda", "/dev/dm-0", "/dev/hda", "/dev/mmcblk0p1",
		"/dev/mem", "/dev/kmem", "/dev/port", "/proc/kcore", "/dev/null", "/dev/shm/x",
		"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers", "/etc/sudoers.d/admin", "/etc/passwd", "/etc/group",
		"/var/run/secrets/kubernetes.io/serviceaccount/token", "/run/secrets/kubernetes.io/serviceaccount/..2026_11_29_05_00_00.1/token",
		"/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", "/host/x/serviceaccount/token", "/token",
		"/root/.ssh/id_rsa", "/home/u/.ssh/id_ed25519", "/root/.ssh/id_rsa.pub", "/root/.ssh/id_dir/key", "/root/.ssh/known_hosts",
		"/etc/kubernetes/pki/ca.key", "/var/lib/kubelet/pki/kubelet.key", "/etc/kubernetes/admin.conf",
		"/run/docker.sock", "/var/run/docker.sock", "/host/run/containerd/containerd.sock", "/run/crio/crio.sock",
		"/var/run/dockershim.sock", "/run/cri-dockerd.sock", "/run/podman/podman.sock", "/run/user.sock",
		"/var/log/auth.log", "/var/log/nginx/access.log", "/root/.bash_history", "/home/u/.zsh_history", "/root/.python_history",
		"/etc/ld.so.preload", "/etc/ld.so.conf", "/etc/ld.so.conf.d/x.conf", "/etc/nginx/nginx.conf", "/etc/hosts", "/etc/resolv.conf",
		"/bin/sh", "/usr/bin/curl", "/usr/local/bin/x", "/lib/x.so", "/usr/lib64/libc.so.6",
		"/root/.bashrc", "/home/u/.profile", "/etc/profile", "/etc/profile.d/x.sh", "/etc/bash.bashrc",
		"/etc/crontab", "/etc/cron.d/job", "/var/spool/cron/crontabs/root", "/var/spool/at/a1",
		"/root/.ssh/authorized_keys", "/root/.ssh/authorized_keys2",
		"/etc/systemd/system/evil.service", "/lib/systemd/system/x.service", "/etc/init.d/x", "/etc/rc.local", "/etc/rc3.d/S01x",
		"/sys/fs/cgroup/x/release_agent", "/tmp/cg/notify_on_release",
		"/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sysrq-trigger", "/sys/kernel/uevent_helper",
		"/proc/sys/fs/binfmt_misc/register", "/proc/sys/kernel/hotplug",
		"/host/etc/podguard/rules.d/x.toml", "/etc/podguard", "/var/lib/podguard/state", "/host/usr/bin/podguard", "/x/podguard.service",
		"/app/x", "/app/server.js", "/tmp/x", "/", "/etc/",
	}
	flags := []uint32{0, 0x80000 /* O_CLOEXEC */, 0x10000 /* O_DIRECTORY */, 0x200000 /* O_PATH */, oWronly, oRdwr, oCreat | oWronly, oTrunc | oWronly, oCreat | oTrunc | oWronly, oTrunc}
	modes := []uint32{0, 0o644, 0o755}
	hits := map[string]bool{}
	for _, who := range []struct {
		pid  uint32
		exe  string
		args []string
	}{{100, "", nil}, {200, "/bin/cat", []string{"cat"}}, {201, "/usr/bin/python3", []string{"python3", "x.py"}}} {
		w := newWorld(t)
		if who.exe != "" {
			w.child(who.pid, who.exe, who.args...)
		}
		for _, p := range paths {
			for _, fl := range flags {
				for _, m := range modes {
					ev := open(who.pid, p, fl, m)
					ev.Comm = base(w.e.procs.get(who.pid).Exe)
					for _, id := range w.handle(ev) {
						hits[id] = true
					}
				}
			}
		}
	}
	for _, r := range catalog.All() {
		if slices.Contains(r.Events, "open") && !hits[r.ID] {
			t.Errorf("rule %s matched no open of the corpus: add paths it matches", r.ID)
		}
	}
}

// TestOpenRulesDeclareInterest: every catalog rule that reads opens says
// which (an undeclared one silently turns the prefilter off, see
// TestOpenFilterFailSafe), and no declaration names a rule that does not.
func TestOpenRulesDeclareInterest(t *testing.T) {
	for _, r := range catalog.All() {
		d := managed.defs[r.ID]
		if d == nil {
			t.Errorf("rule %s has no definition", r.ID)
			continue
		}
		in, ok := d.open, d.open != nil
		opens := slices.Contains(r.Events, "open")
		switch {
		case opens && !ok:
			t.Errorf("rule %s reads opens but declares no OpenInterest", r.ID)
		case opens && in.All:
			t.Logf("rule %s needs every open", r.ID)
		case !opens && ok:
			t.Errorf("rule %s declares an OpenInterest but does not read opens", r.ID)
		case ok && !in.All && !in.Writes && len(in.PathPrefixes)+len(in.BasePrefixes) == 0:
			t.Errorf("rule %s declares an empty OpenInterest", r.ID)
		}
	}
	if f := OpenFilter(allRules(catalog.Log)); f == nil {
		t.Fatal("the catalog's rules turn the prefilter off")
	} else {
		t.Logf("catalog filter: %d path prefixes %q, %d basename prefixes %q", len(f.PathPrefixes), f.PathPrefixes, len(f.BasePrefixes), f.BasePrefixes)
		if err := f.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func snapshotOf(ids ...string) *rulesets.Snapshot {
	rs := &rulesets.Ruleset{Name: "t", Rules: map[string]catalog.Mitigation{}}
	for _, id := range ids {
		rs.Rules[id] = catalog.Log
	}
	return &rulesets.Snapshot{Generation: 1, Rulesets: []*rulesets.Ruleset{rs}}
}

// withOpen returns the product's rules with the open interests of some
// replaced (nil: none declared).
func withOpen(tb testing.TB, decl map[string]*OpenInterest) *table {
	tb.Helper()
	defs := rules()
	for i := range defs {
		if in, ok := decl[defs[i].ID]; ok {
			defs[i].open = in
		}
	}
	tab, err := newTable(defs)
	if err != nil {
		tb.Fatal(err)
	}
	return tab
}

// TestOpenFilterFailSafe: an open-consuming rule without a declaration,
// or declaring All, makes the filter pass every open; rules that do not
// read opens, and rules not enabled, do not count.
func TestOpenFilterFailSafe(t *testing.T) {
	decl := map[string]*OpenInterest{"shadow-file-read": {PathPrefixes: []string{"/etc/shadow"}}, "private-key-read": nil}
	if f := withOpen(t, decl).openFilter(snapshotOf("shadow-file-read", "exec-from-tmp")); f == nil || !slices.Equal(f.PathPrefixes, []string{"/etc/shadow"}) {
		t.Errorf("declared rules: filter %+v, want /etc/shadow only", f)
	}
	if f := withOpen(t, decl).openFilter(snapshotOf("shadow-file-read", "private-key-read")); f != nil {
		t.Errorf("undeclared private-key-read: filter %+v, want nil (every open)", f)
	}
	if !(*probes.OpenFilter)(nil).Passes("/anything", 0) {
		t.Error("a nil filter must pass every open")
	}
	decl["private-key-read"] = &OpenInterest{All: true}
	if f := withOpen(t, decl).openFilter(snapshotOf("shadow-file-read", "private-key-read")); f != nil {
		t.Errorf("All: filter %+v, want nil", f)
	}
	decl["private-key-read"] = &OpenInterest{PathPrefixes: []string{"relative"}}
	if f := withOpen(t, decl).openFilter(snapshotOf("private-key-read")); f != nil {
		t.Errorf("an invalid prefix: filter %+v, want nil", f)
	}
	// the real declarations: the union of the enabled rules only
	f := OpenFilter(snapshotOf("shadow-file-read", "container-runtime-socket"))
	if f == nil || !slices.Equal(f.PathPrefixes, []string{"/etc/gshadow", "/etc/shadow", "/etc/sudoers"}) || !slices.Contains(f.BasePrefixes, "docker.sock") || slices.Contains(f.BasePrefixes, "token") {
		t.Errorf("union of two rules: %+v", f)
	}
	if f := OpenFilter(snapshotOf("exec-from-tmp")); f == nil || f.Prefixes() != 0 {
		t.Errorf("no open rule: filter %+v, want an empty one (writes and relative paths only)", f)
	}
}

// TestOpenFilterPasses pins the mirror's own rules (the kernel's, see
// probes/bpf/openfilter.h).
func TestOpenFilterPasses(t *testing.T) {
	f := &probes.OpenFilter{PathPrefixes: []string{"/etc/shadow"}, BasePrefixes: []string{"token"}}
	for _, c := range []struct {
		path  string
		flags uint32
		want  bool
	}{
		{"/etc/shadow", 0, true},
		{"/etc/shadow-", 0, true},
		{"/etc/passwd", 0, false},
		{"/etc/passwd", oWronly, true},
		{"/etc/passwd", oTrunc, true},
		{"/etc/passwd", oCreat, true},
		{"/etc/passwd", oRdwr, true},
		{"/x/token", 0, true},
		{"/x/tokens", 0, true},
		{"/x/mytoken", 0, false},
		{"/token/x", 0, false},
		{"token", 0, true}, // relative
		{"../etc/passwd", 0, true},
		{"", 0, true},
		{"/x/", 0, true},
		{"/" + strings.Repeat("a", 252), 0, false},
		{"/" + strings.Repeat("a", 253), 0, true}, // too long to judge
	} {
		if got := f.Passes(c.path, c.flags); got != c.want {
			t.Errorf("Passes(%q, %#o) = %v, want %v", c.path, c.flags, got, c.want)
		}
	}
}
