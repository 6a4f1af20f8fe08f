package engine

import (
	"strconv"
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

// is reports whether the process goes by one of the names in set (see
// names): for detection only, never to exempt (see exempt).
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

// ancestorExempt reports whether the process (when self) or an ancestor
// in the container runs an image file of one of the tools in set (see exempt).
func (c *Ctx) ancestorExempt(set map[string]bool, self bool) bool {
	if self && c.Proc.runs(set) {
		return true
	}
	for _, a := range c.procs.ancestors(c.Proc, 16) {
		if a.runs(set) {
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

// underPackageManager reports whether a package manager from the image is
// this process or one of its ancestors (its post-install scripts write
// everywhere). Keyed on the executed file, never on a name: see exempt.
func (c *Ctx) underPackageManager() bool { return c.ancestorExempt(pkgManagers, true) }

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
		if writes(e.FileFlags) && !e.Attempt() {
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

// opened returns the path of a successful open and whether it writes.
// The path is the one the kernel resolved from the opened file (see
// probes.Record.Path): aliases ("//", ".", "..", symlinks, hard links
// reached through /proc/self/root, fd reopens) arrive as the one path.
func (c *Ctx) opened() (string, bool, bool) {
	if c.Ev.Kind != probes.KindOpen || c.Ev.Attempt() {
		return "", false, false
	}
	return c.Ev.Path, writes(c.Ev.FileFlags), true
}

// openedOrTried is opened for the rules that judge intent: a failed open
// counts too (refused with EACCES, EPERM or ETXTBSY, or ENOENT and the
// like of a path the prefilter wants), with the raw path joined and
// cleaned lexically. Those rules are shadow-file-read, private-key-read,
// proc-mem-access, proc-environ-read, host-device-access and
// runtime-binary-overwrite; their details then say "attempt": true and
// the error.
func (c *Ctx) openedOrTried() (string, bool, bool) {
	if c.Ev.Kind != probes.KindOpen {
		return "", false, false
	}
	return c.Ev.Path, writes(c.Ev.FileFlags), true
}

// openDetails are the details of an open rule's match: the path, and
// for a refused attempt the error and "attempt", for an alias the path
// as the process wrote it.
func (c *Ctx) openDetails(p string) Details {
	d := Details{"path": p}
	if c.Ev.Attempt() {
		d["attempt"] = true
		d["error"] = errnoName(-c.Ev.Ret)
	}
	if raw := c.Ev.RawPath; raw != "" && raw != p {
		d["raw_path"] = raw
	}
	if c.Ev.Flags&probes.FlagTruncated != 0 {
		d["truncated"] = true
	}
	if c.Ev.Flags&probes.FlagUnreadable != 0 {
		d["unreadable"] = true
	}
	return d
}

func errnoName(n int32) string {
	switch n {
	case 1:
		return "EPERM"
	case 2:
		return "ENOENT"
	case 13:
		return "EACCES"
	case 26:
		return "ETXTBSY"
	}
	return "errno " + strconv.Itoa(int(n))
}

// pathIs reports whether p is one of the sensitive paths: equal, or,
// when the kernel cut p (FlagTruncated: the components nearest the root
// are missing, so a deep alias could hide a match), ending in one. The
// conservative reading applies to shadow-file-read and
// host-device-access.
func (c *Ctx) pathIs(p string, paths ...string) bool {
	cut := c.Ev.Flags&probes.FlagTruncated != 0
	for _, x := range paths {
		if p == x || cut && strings.HasSuffix(p, x) {
			return true
		}
	}
	return false
}
