package engine

import (
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/podguard/podguard/probes"
)

var (
	procPidFile  = regexp.MustCompile(`^/proc/(\d+|self|thread-self)/(mem|environ|exe)$`)
	saToken      = regexp.MustCompile(`/secrets/kubernetes\.io/serviceaccount/(\.\.[^/]+/)?token$|/serviceaccount/token$`)
	tokenReaders = set("cat", "head", "tail", "less", "more", "base64", "strings", "xxd", "od", "curl", "wget", "nc", "dd", "cp", "tar", "grep")
	loginTools   = set("login", "passwd", "chpasswd", "sshd", "su", "sudo", "unix_chkpwd", "useradd", "usermod", "userdel", "groupadd", "vipw", "chage", "newgrp", "gpasswd", "pwck", "grpck")
	hostDisks    = []string{"/dev/sd", "/dev/nvme", "/dev/vd", "/dev/xvd", "/dev/dm-", "/dev/hd", "/dev/mmcblk"}
	pkiDirs      = []string{"/etc/kubernetes/pki/", "/var/lib/kubelet/pki/"}
	keyReaders   = set("ssh", "sshd", "ssh-agent", "ssh-add", "scp", "sftp", "git", "kubelet", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kubeadm")
)

// procTarget returns the pid a /proc/<pid>/<file> path names and whether
// it is another process than the caller.
func (c *Ctx) procTarget(p, file string) (string, bool) {
	if !strings.HasPrefix(p, "/proc/") {
		return "", false // most paths: skip the regexp
	}
	m := procPidFile.FindStringSubmatch(p)
	if m == nil || m[2] != file {
		return "", false
	}
	if m[1] == "self" || m[1] == "thread-self" || m[1] == strconv.Itoa(int(c.Ev.TGID)) || m[1] == strconv.Itoa(int(c.Ev.PID)) {
		return m[1], false
	}
	// Inside a container the process names itself by its pid there.
	return m[1], m[1] != strconv.Itoa(int(c.Proc.NSPID()))
}

// fileConditions decide rules on file operations.
var fileConditions = map[string]condition{
	"new-executable-in-container": func(c *Ctx) (Details, bool) {
		e := c.Ev
		switch {
		case e.Kind == probes.KindOpen && e.FileFlags&oCreat != 0 && e.Mode&0o111 != 0:
			return Details{"path": e.Path, "mode": modeString(e.Mode), "operation": "create"}, !c.underPackageManager()
		case e.Kind == probes.KindChmod && e.Mode&0o111 != 0 && !strings.HasPrefix(e.Path, "/proc/") && !strings.HasPrefix(e.Path, "/dev/"):
			return Details{"path": e.Path, "mode": modeString(e.Mode), "operation": "chmod"}, !c.underPackageManager()
		}
		return nil, false
	},
	"proc-mem-access": func(c *Ctx) (Details, bool) {
		p, _, ok := c.opened()
		if !ok {
			return nil, false
		}
		if pid, other := c.procTarget(p, "mem"); other {
			return Details{"path": p, "target_pid": pid}, true
		}
		return nil, false
	},
	"clear-logs": func(c *Ctx) (Details, bool) {
		ch, ok := c.destructive(func(p string) bool { return strings.HasPrefix(p, "/var/log/") })
		return ch.details(), ok
	},
	"clear-history": func(c *Ctx) (Details, bool) {
		ch, ok := c.destructive(func(p string) bool { return strings.HasSuffix(path.Base(p), "_history") })
		return ch.details(), ok
	},
	"dynamic-linker-hijack": func(c *Ctx) (Details, bool) {
		ch, ok := c.changedMatching(func(p string) bool {
			return p == "/etc/ld.so.preload" || strings.HasPrefix(p, "/etc/ld.so.conf")
		})
		return ch.details(), ok
	},
	"shadow-file-read": func(c *Ctx) (Details, bool) {
		p, _, ok := c.opened()
		if !ok || c.is(loginTools) {
			return nil, false
		}
		if p == "/etc/shadow" || p == "/etc/gshadow" || p == "/etc/sudoers" || strings.HasPrefix(p, "/etc/sudoers.d/") || p == "/etc/shadow-" || p == "/etc/gshadow-" {
			return Details{"path": p}, true
		}
		return nil, false
	},
	"service-account-token-read": func(c *Ctx) (Details, bool) {
		p, w, ok := c.opened()
		if !ok || w || !saToken.MatchString(p) {
			return nil, false
		}
		if c.isShell() || c.isInterpreter() || c.is(tokenReaders) || !c.Proc.FromImage() {
			return Details{"path": p}, true
		}
		return nil, false
	},
	"private-key-read": func(c *Ctx) (Details, bool) {
		p, _, ok := c.opened()
		if !ok || c.is(keyReaders) {
			return nil, false
		}
		// the key file itself is named id_*: its basename is what the
		// kernel's open prefilter can see
		if strings.Contains(p, "/.ssh/id_") && strings.HasPrefix(path.Base(p), "id_") && !strings.HasSuffix(p, ".pub") || hasPrefix(p, pkiDirs...) {
			return Details{"path": p}, true
		}
		return nil, false
	},
	"proc-environ-read": func(c *Ctx) (Details, bool) {
		p, _, ok := c.opened()
		if !ok {
			return nil, false
		}
		if pid, other := c.procTarget(p, "environ"); other {
			return Details{"path": p, "target_pid": pid}, true
		}
		return nil, false
	},
	"write-below-binary-dir": func(c *Ctx) (Details, bool) {
		ch, ok := c.changedMatching(func(p string) bool {
			return hasPrefix(p, "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/", "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/local/lib/")
		})
		if !ok || c.Ev.Kind == probes.KindChmod || c.underPackageManager() {
			return nil, false
		}
		return ch.details(), true
	},
	"write-below-etc": func(c *Ctx) (Details, bool) {
		ch, ok := c.changedMatching(func(p string) bool {
			return strings.HasPrefix(p, "/etc/") && p != "/etc/hosts" && p != "/etc/resolv.conf" && p != "/etc/hostname" && p != "/etc/mtab"
		})
		if !ok || c.Ev.Kind == probes.KindChmod || c.underPackageManager() {
			return nil, false
		}
		return ch.details(), true
	},
	"account-manipulation": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind == probes.KindExec {
			if c.is(set("useradd", "adduser", "usermod", "passwd", "chpasswd", "groupadd", "addgroup", "gpasswd", "deluser", "userdel")) {
				return Details{"args": c.Proc.Args}, true
			}
			return nil, false
		}
		ch, ok := c.changedMatching(func(p string) bool {
			return p == "/etc/passwd" || p == "/etc/group" || p == "/etc/shadow" || p == "/etc/gshadow"
		})
		if !ok || c.Ev.Kind == probes.KindChmod || c.underPackageManager() {
			return nil, false
		}
		return ch.details(), true
	},
	"shell-profile-persistence": func(c *Ctx) (Details, bool) {
		ch, ok := c.changedMatching(func(p string) bool {
			switch path.Base(p) {
			case ".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zprofile", ".zshenv", ".cshrc", ".kshrc":
				return true
			}
			return p == "/etc/profile" || p == "/etc/bash.bashrc" || p == "/etc/zsh/zshrc" || strings.HasPrefix(p, "/etc/profile.d/")
		})
		if !ok || c.Ev.Kind == probes.KindChmod || c.underPackageManager() {
			return nil, false
		}
		return ch.details(), true
	},
	"cron-persistence": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind == probes.KindExec {
			if c.is(set("crontab", "at", "batch")) {
				return Details{"args": c.Proc.Args}, true
			}
			return nil, false
		}
		ch, ok := c.changedMatching(func(p string) bool {
			return hasPrefix(p, "/etc/cron", "/var/spool/cron/", "/var/spool/at/", "/etc/crontab")
		})
		if !ok || c.Ev.Kind == probes.KindChmod || c.underPackageManager() {
			return nil, false
		}
		return ch.details(), true
	},
	"ssh-authorized-keys-change": func(c *Ctx) (Details, bool) {
		ch, ok := c.changedMatching(func(p string) bool { return strings.HasPrefix(path.Base(p), "authorized_keys") })
		if !ok || c.Ev.Kind == probes.KindChmod {
			return nil, false
		}
		return ch.details(), true
	},
	"init-persistence": func(c *Ctx) (Details, bool) {
		ch, ok := c.changedMatching(func(p string) bool {
			return hasPrefix(p, "/etc/systemd/system/", "/lib/systemd/system/", "/usr/lib/systemd/system/", "/etc/init.d/", "/etc/rc.local", "/etc/init/") ||
				strings.HasPrefix(p, "/etc/rc") && strings.Contains(p, ".d/")
		})
		if !ok || c.Ev.Kind == probes.KindChmod || c.underPackageManager() {
			return nil, false
		}
		return ch.details(), true
	},
	"cgroup-release-agent": func(c *Ctx) (Details, bool) {
		ch, ok := c.changedMatching(func(p string) bool {
			b := path.Base(p)
			return b == "release_agent" || b == "notify_on_release"
		})
		if !ok || c.Ev.Kind == probes.KindChmod {
			return nil, false
		}
		return ch.details(), true
	},
	"kernel-hook-tamper": func(c *Ctx) (Details, bool) {
		p, w, ok := c.opened()
		if !ok || !w {
			return nil, false
		}
		switch p {
		case "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sys/kernel/sysrq", "/proc/sysrq-trigger",
			"/sys/kernel/uevent_helper", "/proc/sys/fs/binfmt_misc/register", "/proc/sys/kernel/hotplug":
			return Details{"path": p}, true
		}
		return nil, false
	},
	"host-device-access": func(c *Ctx) (Details, bool) {
		p, w, ok := c.opened()
		if !ok {
			return nil, false
		}
		if hasPrefix(p, hostDisks...) || p == "/dev/mem" || p == "/dev/kmem" || p == "/dev/port" || p == "/proc/kcore" {
			return Details{"path": p, "write": w}, true
		}
		return nil, false
	},
	"runtime-binary-overwrite": func(c *Ctx) (Details, bool) {
		p, w, ok := c.opened()
		if !ok || !w || c.isPrefixed("runc") {
			return nil, false
		}
		if m := procPidFile.FindStringSubmatch(p); m != nil && m[2] == "exe" {
			return Details{"path": p}, true
		}
		return nil, false
	},
	"setuid-bit-set": func(c *Ctx) (Details, bool) {
		e := c.Ev
		if e.Kind != probes.KindChmod || e.Mode&0o6000 == 0 || c.underPackageManager() {
			return nil, false
		}
		return Details{"path": e.Path, "mode": modeString(e.Mode)}, true
	},
}

// fileOpenInterest declares, for each condition above that reads open
// events, which opens it can match (see OpenInterest): the kernel's open
// prefilter is built from these. A condition that matches an open not
// covered here loses events; TestOpenFilterMirror checks them.
var fileOpenInterest = map[string]OpenInterest{
	"new-executable-in-container": {Writes: true}, // O_CREAT
	"proc-mem-access":             {BasePrefixes: []string{"mem"}},
	"clear-logs":                  {Writes: true}, // O_TRUNC
	"clear-history":               {Writes: true}, // O_TRUNC
	"dynamic-linker-hijack":       {Writes: true},
	"shadow-file-read":            {PathPrefixes: []string{"/etc/shadow", "/etc/gshadow", "/etc/sudoers"}},
	"service-account-token-read":  {BasePrefixes: []string{"token"}},
	"private-key-read":            {BasePrefixes: []string{"id_"}, PathPrefixes: pkiDirs},
	"proc-environ-read":           {BasePrefixes: []string{"environ"}},
	"write-below-binary-dir":      {Writes: true},
	"write-below-etc":             {Writes: true},
	"account-manipulation":        {Writes: true},
	"shell-profile-persistence":   {Writes: true},
	"cron-persistence":            {Writes: true},
	"ssh-authorized-keys-change":  {Writes: true},
	"init-persistence":            {Writes: true},
	"cgroup-release-agent":        {Writes: true},
	"kernel-hook-tamper":          {Writes: true},
	"host-device-access":          {PathPrefixes: append([]string{"/dev/mem", "/dev/kmem", "/dev/port", "/proc/kcore"}, hostDisks...)},
	"runtime-binary-overwrite":    {Writes: true},
}

// destructive matches truncation, removal, renaming away or symlinking
// over a path that match accepts.
func (c *Ctx) destructive(match func(string) bool) (change, bool) {
	e := c.Ev
	switch e.Kind {
	case probes.KindOpen:
		if e.FileFlags&oTrunc != 0 && match(e.Path) {
			return change{e.Path, "truncate"}, true
		}
	case probes.KindUnlink:
		if match(e.Path) {
			return change{e.Path, "unlink"}, true
		}
	case probes.KindRename:
		if match(e.Path) {
			return change{e.Path, "rename"}, true
		}
	case probes.KindSymlink:
		if match(e.Path2) {
			return change{e.Path2, "symlink to " + e.Path}, true
		}
	}
	return change{}, false
}

func modeString(m uint32) string { return "0" + strconv.FormatUint(uint64(m&0o7777), 8) }
