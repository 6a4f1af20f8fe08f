package engine

import (
	"path"
	"strings"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

// persistRules judge writes that make code run again later: binaries,
// configuration, accounts, profiles, schedules, keys and services.
var persistRules = []definition{
	{
		Rule: catalog.Rule{
			ID:          "write-below-binary-dir",
			Name:        "Write below a binary or library directory",
			Description: "A file under /bin, /sbin, /usr/bin, /usr/sbin, /usr/local/bin, /lib, /lib64 or /usr/lib was written, created, removed or replaced in a running container by something other than a package manager.",
			Tactic:      "TA0003", TacticName: "Persistence",
			Technique:  "T1554",
			Events:     []string{"open", "rename", "unlink", "link", "symlink", "mkdir", "truncate"},
			Mitigation: catalog.Isolate,
		},
		cond: func(c *Ctx) (Details, bool) {
			ch, ok := c.changedMatching(func(p string) bool {
				return hasPrefix(p, "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/", "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/local/lib/")
			})
			if !ok || c.Ev.Kind == probes.KindChmod || c.underPackageManager() {
				return nil, false
			}
			return ch.details(), true
		},
		open: &OpenInterest{Writes: true},
	},
	{
		Rule: catalog.Rule{
			ID:          "write-below-etc",
			Name:        "Write below /etc",
			Description: "A file under /etc was written, created, removed or replaced in a running container (other than hosts, resolv.conf and hostname, which the runtime manages) by something other than a package manager.",
			Tactic:      "TA0003", TacticName: "Persistence",
			Technique:  "T1543",
			Events:     []string{"open", "rename", "unlink", "truncate"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			ch, ok := c.changedMatching(func(p string) bool {
				return strings.HasPrefix(p, "/etc/") && p != "/etc/hosts" && p != "/etc/resolv.conf" && p != "/etc/hostname" && p != "/etc/mtab"
			})
			if !ok || c.Ev.Kind == probes.KindChmod || c.underPackageManager() {
				return nil, false
			}
			return ch.details(), true
		},
		open: &OpenInterest{Writes: true},
	},
	{
		Rule: catalog.Rule{
			ID:          "account-manipulation",
			Name:        "Local account created or changed",
			Description: "/etc/passwd, /etc/group or /etc/shadow was written, or useradd, adduser, usermod, passwd or chpasswd ran, inside a container.",
			Tactic:      "TA0003", TacticName: "Persistence",
			Technique:  "T1136.001",
			Events:     []string{"open", "exec", "truncate"},
			Mitigation: catalog.Isolate,
		},
		cond: func(c *Ctx) (Details, bool) {
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
		open: &OpenInterest{Writes: true},
	},
	{
		Rule: catalog.Rule{
			ID:          "shell-profile-persistence",
			Name:        "Shell profile modified",
			Description: "A shell start-up file (.bashrc, .bash_profile, .profile, .zshrc, /etc/profile, /etc/profile.d/*, /etc/bash.bashrc) was written or replaced: code that runs at every login.",
			Tactic:      "TA0003", TacticName: "Persistence",
			Technique:  "T1546.004",
			Events:     []string{"open", "rename"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
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
		open: &OpenInterest{Writes: true},
	},
	{
		Rule: catalog.Rule{
			ID:          "cron-persistence",
			Name:        "Scheduled task created or changed",
			Description: "A cron table or at job was written (/etc/cron*, /var/spool/cron), or crontab, at or batch ran.",
			Tactic:      "TA0003", TacticName: "Persistence",
			Technique:  "T1053.003",
			Events:     []string{"open", "rename", "exec"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
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
		open: &OpenInterest{Writes: true},
	},
	{
		Rule: catalog.Rule{
			ID:          "ssh-authorized-keys-change",
			Name:        "SSH authorized_keys changed",
			Description: "An authorized_keys file was written or replaced: a key that lets an attacker log in later.",
			Tactic:      "TA0003", TacticName: "Persistence",
			Technique:  "T1098.004",
			Events:     []string{"open", "rename"},
			Mitigation: catalog.Isolate,
		},
		cond: func(c *Ctx) (Details, bool) {
			ch, ok := c.changedMatching(func(p string) bool { return strings.HasPrefix(path.Base(p), "authorized_keys") })
			if !ok || c.Ev.Kind == probes.KindChmod {
				return nil, false
			}
			return ch.details(), true
		},
		open: &OpenInterest{Writes: true},
	},
	{
		Rule: catalog.Rule{
			ID:          "init-persistence",
			Name:        "Init or systemd service changed",
			Description: "A systemd unit or init script was written (/etc/systemd/system, /lib/systemd/system, /etc/init.d, /etc/rc.local, /etc/rc*.d), in the container or through a host mount.",
			Tactic:      "TA0003", TacticName: "Persistence",
			Technique:  "T1543.002",
			Events:     []string{"open", "rename"},
			Mitigation: catalog.Isolate,
		},
		cond: func(c *Ctx) (Details, bool) {
			ch, ok := c.changedMatching(func(p string) bool {
				return hasPrefix(p, "/etc/systemd/system/", "/lib/systemd/system/", "/usr/lib/systemd/system/", "/etc/init.d/", "/etc/rc.local", "/etc/init/") ||
					strings.HasPrefix(p, "/etc/rc") && strings.Contains(p, ".d/")
			})
			if !ok || c.Ev.Kind == probes.KindChmod || c.underPackageManager() {
				return nil, false
			}
			return ch.details(), true
		},
		open: &OpenInterest{Writes: true},
	},
}
