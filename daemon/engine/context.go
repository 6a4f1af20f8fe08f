package engine

import (
	"strings"

	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/probes"
)

// Ctx is what a rule condition sees: the event, its process and pod.
type Ctx struct {
	Ev    *probes.Record
	ID    workload.Identity
	Proc  *Proc
	procs *procTable
	env   *envCache
	self  *Self
}

// Details are the rule-specific facts put on an event (file path,
// destination, ptrace target…). Never environment variables or file
// contents.
type Details map[string]any

// condition decides one rule for one event.
type condition func(c *Ctx) (Details, bool)

// names are the names a process goes by: comm, executable and argv[0]
// base names (busybox applets are known by argv[0] and comm only).
func (c *Ctx) names() [3]string {
	var n [3]string
	n[0] = c.Proc.Comm
	n[1] = base(c.Proc.Exe)
	if len(c.Proc.Args) > 0 {
		n[2] = base(c.Proc.Args[0])
	}
	return n
}

// is reports whether the process goes by one of the names in set.
func (c *Ctx) is(set map[string]bool) bool {
	for _, n := range c.names() {
		if n != "" && set[n] {
			return true
		}
	}
	return false
}

// isPrefixed reports whether a name starts with one of prefixes.
func (c *Ctx) isPrefixed(prefixes ...string) bool {
	for _, n := range c.names() {
		for _, p := range prefixes {
			if n != "" && strings.HasPrefix(n, p) {
				return true
			}
		}
	}
	return false
}

// ancestorIs reports whether the process or one of its ancestors in the
// container goes by a name in set.
func (c *Ctx) ancestorIs(set map[string]bool, self bool) bool {
	if self && c.is(set) {
		return true
	}
	for _, a := range c.procs.ancestors(c.Proc, 16) {
		ac := Ctx{Proc: a}
		if ac.is(set) {
			return true
		}
	}
	return false
}

func (c *Ctx) parentExe() string {
	if p := c.procs.get(c.Proc.PPID); p != nil {
		return p.Exe
	}
	return ""
}

// argsContain reports whether any argument contains one of subs.
func (c *Ctx) argsContain(subs ...string) (string, bool) {
	for _, a := range c.Proc.Args[min(1, len(c.Proc.Args)):] {
		for _, s := range subs {
			if strings.Contains(a, s) {
				return s, true
			}
		}
	}
	return "", false
}

// hasArg reports whether an argument equals one of opts, or (for short
// options) is a flag cluster holding it, like -lvnp.
func (c *Ctx) hasArg(opts ...string) bool {
	for _, a := range c.Proc.Args[min(1, len(c.Proc.Args)):] {
		for _, o := range opts {
			if a == o || strings.HasPrefix(a, o+"=") {
				return true
			}
			if len(o) == 2 && o[0] == '-' && len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], o[1]) >= 0 {
				return true
			}
		}
	}
	return false
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	shells       = set("sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish")
	interpreters = set("python", "python2", "python3", "perl", "ruby", "php", "node", "lua", "tclsh")
	servers      = set("nginx", "httpd", "apache2", "lighttpd", "php-fpm", "php-cgi", "java", "node", "uwsgi", "gunicorn", "tomcat", "catalina.sh", "ruby", "puma", "unicorn", "python", "python3", "dotnet", "caddy")
	pkgManagers  = set("apt", "apt-get", "aptitude", "dpkg", "yum", "dnf", "microdnf", "rpm", "apk", "zypper", "pip", "pip3", "gem", "npm", "yarn", "conda", "pacman")
)

func (c *Ctx) isShell() bool { return c.is(shells) }

func (c *Ctx) isInterpreter() bool {
	return c.is(interpreters) || c.isPrefixed("python", "php", "perl", "ruby")
}

// underPackageManager reports whether a package manager is this process or
// one of its ancestors (its post-install scripts write everywhere).
func (c *Ctx) underPackageManager() bool { return c.ancestorIs(pkgManagers, true) }

func hasPrefix(p string, prefixes ...string) bool {
	for _, x := range prefixes {
		if strings.HasPrefix(p, x) {
			return true
		}
	}
	return false
}

// Open flags (x86_64, generic).
const (
	oWronly = 0x1
	oRdwr   = 0x2
	oCreat  = 0x40
	oTrunc  = 0x200
)

// writes reports whether an open asks for writing.
func writes(flags uint32) bool { return flags&(oWronly|oRdwr|oCreat|oTrunc) != 0 }

// changed returns the paths an event creates, writes, removes or
// replaces, with the operation, for the "write below" family of rules.
func (c *Ctx) changed() []change {
	e := c.Ev
	switch e.Kind {
	case probes.KindOpen:
		if writes(e.FileFlags) {
			op := "write"
			if e.FileFlags&oTrunc != 0 {
				op = "truncate"
			}
			return []change{{e.Path, op}}
		}
	case probes.KindUnlink:
		return []change{{e.Path, "unlink"}}
	case probes.KindRename:
		return []change{{e.Path2, "rename"}, {e.Path, "rename"}}
	case probes.KindLink:
		return []change{{e.Path2, "link"}}
	case probes.KindSymlink:
		return []change{{e.Path2, "symlink"}}
	case probes.KindMkdir:
		return []change{{e.Path, "mkdir"}}
	case probes.KindChmod:
		return []change{{e.Path, "chmod"}}
	case probes.KindTruncate: // truncate/ftruncate: the route besides O_TRUNC
		return []change{{e.Path, "truncate"}}
	}
	return nil
}

type change struct{ path, op string }

// changedMatching returns the first changed path accepted by match.
func (c *Ctx) changedMatching(match func(string) bool) (change, bool) {
	for _, ch := range c.changed() {
		if ch.path != "" && match(ch.path) {
			return ch, true
		}
	}
	return change{}, false
}

// details describes a change; nil for no change, so that a condition that
// does not match allocates nothing (it runs for every event of its kinds).
func (ch change) details() Details {
	if ch.op == "" {
		return nil
	}
	return Details{"path": ch.path, "operation": ch.op}
}

// opened returns the path of an open event and whether it writes.
func (c *Ctx) opened() (string, bool, bool) {
	if c.Ev.Kind != probes.KindOpen {
		return "", false, false
	}
	return c.Ev.Path, writes(c.Ev.FileFlags), true
}
