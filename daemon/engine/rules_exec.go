package engine

import (
	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

// execRules judge how programs start: shells, staged or fileless payloads,
// drift from the image.
var execRules = []definition{
	{
		Rule: catalog.Rule{
			ID:          "terminal-shell-in-container",
			Name:        "Interactive shell in container",
			Description: "A shell started with a terminal inside a container through an exec from outside (kubectl exec -it, crictl exec -it). Legitimate for debugging, and also the first thing an intruder with cluster credentials does.",
			Tactic:      "TA0002", TacticName: "Execution",
			Technique:  "T1609",
			Events:     []string{"exec"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			if c.Ev.Kind != probes.KindExec || !c.isShell() || !c.Proc.TTY || !c.Proc.ExecIn {
				return nil, false
			}
			return Details{"tty": true}, true
		},
	},
	{
		Rule: catalog.Rule{
			ID:          "shell-spawned-by-server",
			Name:        "Shell spawned by a server process",
			Description: "A shell started without a terminal by a web or application server (nginx, httpd, php-fpm, java, node, python, ruby, gunicorn, uwsgi…): the signature of a remote code execution or a web shell.",
			Tactic:      "TA0001", TacticName: "Initial Access",
			Technique:  "T1190",
			Events:     []string{"exec"},
			Mitigation: catalog.Isolate,
		},
		cond: func(c *Ctx) (Details, bool) {
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
	},
	{
		Rule: catalog.Rule{
			ID:          "reverse-shell",
			Name:        "Reverse shell: standard input or output on a network socket",
			Description: "A program started with a network socket as its standard input and its output or error (any program, whatever its name: nc -e, a bind shell and inetd-style handlers look the same), a shell or interpreter started with a network socket on its input or output, or a shell or interpreter duplicating a network socket onto standard input, output or error (dup, dup2, dup3, fcntl F_DUPFD): the classic reverse shell that hands an attacker remote control. Decided in the kernel at exec, so the program can be killed before it runs.",
			Tactic:      "TA0002", TacticName: "Execution",
			Technique:  "T1059.004",
			Events:     []string{"dup", "exec"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			switch {
			case e.Kind == probes.KindDup && e.Flags&probes.FlagInetStdio != 0 && (c.isShell() || c.isInterpreter()):
				// Only a shell or interpreter wiring a network socket to its
				// own stdio: inetd-style servers (busybox httpd, xinetd) put
				// accepted connections on stdio for their handlers all day.
				return Details{"old_fd": e.OldFD, "new_fd": e.NewFD, "socket": "inet"}, true
			case e.Kind == probes.KindExec && e.StdioInet&1 != 0 && e.StdioInet&6 != 0:
				// Behaviour, whatever runs and whatever its name: input
				// and output on the network (see stdioInetShell).
				return withIdentity(Details{"stdio": stdioNames(e.StdioInet)}, c.Proc), true
			case e.Kind == probes.KindExec && e.Flags&probes.FlagInetStdio != 0 && (c.isShell() || c.isInterpreter()):
				return withIdentity(Details{"stdio": stdioNames(e.StdioInet)}, c.Proc), true
			}
			return nil, false
		},
		kill: probes.KillReverseShell,
	},
	{
		Rule: catalog.Rule{
			ID:          "netcat-remote-exec",
			Name:        "Netcat or socat executing a program, or a shell on /dev/tcp",
			Description: "nc, ncat, netcat or socat started with an option that wires a program to the network (-e, -c, --exec, --sh-exec, EXEC:, SYSTEM:), or a shell given a /dev/tcp or /dev/udp redirection.",
			Tactic:      "TA0002", TacticName: "Execution",
			Technique:  "T1059.004",
			Events:     []string{"exec"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			if c.Ev.Kind != probes.KindExec {
				return nil, false
			}
			if c.is(netcats) && c.hasArg("-e", "-c", "--exec", "--sh-exec", "--lua-exec") {
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
			// argv cut beyond what the kernel copied and no longer in
			// /proc: what was cut may hold the option; assume it does.
			if c.Proc.ArgsTruncated && (c.isShell() || c.is(netcats) || c.is(set("socat"))) {
				return Details{"args": c.Proc.Args, "args_truncated": true}, true
			}
			return nil, false
		},
	},
	{
		Rule: catalog.Rule{
			ID:          "exec-from-tmp",
			Name:        "Program run from a temporary directory",
			Description: "A program was executed from /tmp, /var/tmp, /dev/shm, /run or /proc/self/fd, where downloaded payloads are staged.",
			Tactic:      "TA0002", TacticName: "Execution",
			Technique:  "T1204.002",
			Events:     []string{"exec"},
			Mitigation: catalog.Isolate,
		},
		cond: func(c *Ctx) (Details, bool) {
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
	},
	{
		Rule: catalog.Rule{
			ID:          "container-drift",
			Name:        "Drift: executed binary not from the image",
			Description: "A program ran that is not an unmodified file of the container's image, judged in the kernel on the file it loaded: written in the container (the overlay's upper layer, including an image binary overwritten or chmodded there), on a tmpfs, a memfd, an O_TMPFILE or deleted file, or a volume below the container's root. The image's own binaries and the container's entrypoint never trigger it.",
			Tactic:      "TA0011", TacticName: "Command and Control",
			Technique:  "T1105",
			Events:     []string{"exec"},
			Mitigation: catalog.Isolate,
		},
		cond: func(c *Ctx) (Details, bool) {
			// The entrypoint as the runtime started it is the pod's own
			// choice; what it executes later is judged like anything else.
			if c.Ev.Kind != probes.KindExec || !c.Proc.Origin.Drift() || c.Proc.Entrypoint && c.Proc.Launched {
				return nil, false
			}
			return withIdentity(Details{"path": c.Proc.Exe}, c.Proc), true
		},
		kill: probes.KillDrift,
	},
	{
		Rule: catalog.Rule{
			ID:          "fileless-exec-memfd",
			Name:        "Fileless execution from memory",
			Description: "A program was executed from an anonymous in-memory file (memfd), a way to run malware that never touches the disk. Decided in the kernel.",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1620",
			Events:     []string{"exec"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			if c.Ev.Kind != probes.KindExec || c.Proc.Origin != probes.OriginMemfd {
				return nil, false
			}
			return withIdentity(Details{"path": c.Proc.Exe}, c.Proc), true
		},
		kill: probes.KillMemfdExec,
	},
	{
		Rule: catalog.Rule{
			ID:          "loader-runs-program",
			Name:        "Dynamic loader run directly with a program",
			Description: "The dynamic loader (ld-linux, ld-musl, ld.so) was executed directly with a program to run (ld.so /bin/sh): the program runs without being executed itself, past rules and noexec mounts that judge the executed file, under the loader's name.",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1218",
			Events:     []string{"exec"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			if c.Ev.Kind != probes.KindExec {
				return nil, false
			}
			prog, ok := c.Proc.loaderProgram()
			if !ok {
				return nil, false
			}
			return withIdentity(Details{"program": prog, "args": c.Proc.Args}, c.Proc), true
		},
	},
}
