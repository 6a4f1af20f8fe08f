package engine

import (
	"strings"

	"github.com/podguard/podguard/probes"
)

// execConditions decide rules on process executions.
var execConditions = map[string]condition{
	"terminal-shell-in-container": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec || !c.isShell() || !c.Proc.TTY || !c.Proc.ExecIn {
			return nil, false
		}
		return Details{"tty": true}, true
	},
	"shell-spawned-by-server": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec || !c.isShell() || c.Proc.TTY || c.Proc.ExecIn {
			return nil, false
		}
		for _, a := range c.procs.ancestors(c.Proc, 16) {
			ac := Ctx{Proc: a}
			if ac.is(servers) || ac.isPrefixed("python", "php-fpm", "java") {
				return Details{"server_exe": a.Exe, "server_pid": a.TGID}, true
			}
		}
		return nil, false
	},
	"reverse-shell": func(c *Ctx) (Details, bool) {
		e := c.Ev
		switch {
		case e.Kind == probes.KindDup && e.Flags&probes.FlagInetStdio != 0 && (c.isShell() || c.isInterpreter()):
			// Only a shell or interpreter wiring a network socket to its
			// own stdio: inetd-style servers (busybox httpd, xinetd) put
			// accepted connections on stdio for their handlers all day.
			return Details{"old_fd": e.OldFD, "new_fd": e.NewFD, "socket": "inet"}, true
		case e.Kind == probes.KindExec && e.Flags&probes.FlagInetStdio != 0 && (c.isShell() || c.isInterpreter()):
			return Details{"stdio": "inet socket"}, true
		}
		return nil, false
	},
	"netcat-remote-exec": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec {
			return nil, false
		}
		if c.is(set("nc", "ncat", "netcat", "nc.openbsd", "nc.traditional")) && c.hasArg("-e", "-c", "--exec", "--sh-exec", "--lua-exec") {
			return Details{"args": c.Proc.Args}, true
		}
		if c.is(set("socat")) {
			if s, ok := c.argsContain("EXEC:", "SYSTEM:", "exec:", "system:"); ok {
				return Details{"pattern": s}, true
			}
		}
		if c.isShell() {
			if s, ok := c.argsContain("/dev/tcp/", "/dev/udp/"); ok {
				return Details{"pattern": s}, true
			}
		}
		return nil, false
	},
	"exec-from-tmp": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec {
			return nil, false
		}
		for _, p := range []string{c.Proc.Exe, c.Ev.Filename} {
			if hasPrefix(p, "/tmp/", "/var/tmp/", "/dev/shm/", "/run/", "/var/run/", "/proc/self/fd/") {
				return Details{"path": p}, true
			}
		}
		return nil, false
	},
	"container-client-tool": execNamed("kubectl", "crictl", "ctr", "docker", "nerdctl", "podman", "helm", "kubeadm"),
	"container-drift": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec || !c.Proc.Upper || c.Proc.Entrypoint {
			return nil, false
		}
		return Details{"path": c.Proc.Exe, "layer": "upper"}, true
	},
	"package-manager-in-container": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec || !c.is(pkgManagers) {
			return nil, false
		}
		if p := c.procs.get(c.Proc.PPID); p != nil && (&Ctx{Proc: p}).is(pkgManagers) {
			return nil, false // apt running dpkg is one event, not two
		}
		return Details{"args": c.Proc.Args}, true
	},
	"downloader-in-container": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec {
			return nil, false
		}
		switch {
		case c.is(set("tftp", "ftp", "aria2c", "axel")):
		case c.is(set("wget")) && !c.outputDiscarded("-O", "--output-document") && !c.hasArg("--spider"):
		case c.is(set("curl")) && c.hasArg("-o", "-O", "--output", "--remote-name", "--remote-name-all") && !c.outputDiscarded("-o", "--output"):
		default:
			return nil, false // health checks fetch to stdout or /dev/null
		}
		return Details{"args": c.Proc.Args}, true
	},
	"fileless-exec-memfd": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec || !(c.Proc.Memfd || strings.HasPrefix(c.Proc.Exe, "/memfd:")) {
			return nil, false
		}
		return Details{"path": c.Proc.Exe}, true
	},
	"credential-search": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec || !c.is(set("grep", "egrep", "fgrep", "rg", "ag", "find", "ack")) {
			return nil, false
		}
		if s, ok := c.argsContain("PRIVATE KEY", "BEGIN RSA", "BEGIN OPENSSH", "id_rsa", "id_ed25519", "id_ecdsa", "aws_secret_access_key", ".aws/credentials", "password="); ok {
			return Details{"pattern": s}, true
		}
		return nil, false
	},
	"network-scanner": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec {
			return nil, false
		}
		if c.is(set("nmap", "masscan", "zmap", "hping3", "arp-scan", "netdiscover", "rustscan", "naabu")) ||
			c.is(set("nc", "ncat", "netcat")) && c.hasArg("-z") {
			return Details{"args": c.Proc.Args}, true
		}
		return nil, false
	},
	"ssh-client-in-container": execNamed("ssh", "scp", "sftp", "dbclient"),
	"sudo-in-container":       execNamed("sudo", "su", "doas", "pkexec"),
	"crypto-miner": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec {
			return nil, false
		}
		if c.is(set("xmrig", "xmr-stak", "minerd", "cpuminer", "ccminer", "ethminer", "nbminer", "lolminer", "t-rex", "cgminer", "bfgminer")) {
			return Details{"args": c.Proc.Args}, true
		}
		if s, ok := c.argsContain("stratum+tcp://", "stratum+ssl://", "stratum2+", "--donate-level", "cryptonight", "--randomx"); ok {
			return Details{"pattern": s}, true
		}
		if c.hasArg("-a") {
			if s, ok := c.argsContain("randomx", "rx/0"); ok {
				return Details{"pattern": s}, true
			}
		}
		return nil, false
	},
	"data-destruction": func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec {
			return nil, false
		}
		if c.is(set("shred", "wipe", "wipefs", "mke2fs")) || c.isPrefixed("mkfs") {
			return Details{"args": c.Proc.Args}, true
		}
		if c.is(set("dd")) {
			if s, ok := c.argsContain("of=/dev/sd", "of=/dev/nvme", "of=/dev/vd", "of=/dev/xvd", "of=/dev/dm-", "of=/dev/mmcblk"); ok {
				return Details{"pattern": s}, true
			}
		}
		return nil, false
	},
}

// execNamed matches an execution of a program by name.
func execNamed(names ...string) condition {
	s := set(names...)
	return func(c *Ctx) (Details, bool) {
		if c.Ev.Kind != probes.KindExec || !c.is(s) {
			return nil, false
		}
		return Details{"args": c.Proc.Args}, true
	}
}

// outputDiscarded reports whether an output option (e.g. wget -O) names
// standard output or /dev/null rather than a file.
func (c *Ctx) outputDiscarded(opts ...string) bool {
	args := c.Proc.Args
	for i := 1; i < len(args); i++ {
		for _, o := range opts {
			var v string
			switch {
			case args[i] == o && i+1 < len(args):
				v = args[i+1]
			case strings.HasPrefix(args[i], o+"="):
				v = args[i][len(o)+1:]
			case len(o) == 2 && strings.HasPrefix(args[i], o) && len(args[i]) > 2:
				v = args[i][2:]
			default:
				continue
			}
			if v == "-" || v == "/dev/null" {
				return true
			}
		}
	}
	return false
}
