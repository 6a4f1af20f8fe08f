package engine

import (
	"strings"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

// toolRules judge which programs run: tools an attacker brings or uses.
var toolRules = []definition{
	{
		Rule: catalog.Rule{
			ID:          "container-client-tool",
			Name:        "Container or Kubernetes client run in a container",
			Description: "kubectl, crictl, ctr, docker, nerdctl, podman or helm ran inside a container: a workload driving the cluster or the node's runtime.",
			Tactic:      "TA0002", TacticName: "Execution",
			Technique:  "T1609",
			Events:     []string{"exec"},
			Mitigation: catalog.Log,
		},
		cond: execNamed("kubectl", "crictl", "ctr", "docker", "nerdctl", "podman", "helm", "kubeadm"),
	},
	{
		Rule: catalog.Rule{
			ID:          "package-manager-in-container",
			Name:        "Package manager run in container",
			Description: "A package manager (apt, dpkg, apk, yum, dnf, rpm, pip, gem, npm…) ran inside a running container, changing its software outside the image build.",
			Tactic:      "TA0011", TacticName: "Command and Control",
			Technique:  "T1105",
			Events:     []string{"exec"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			if c.Ev.Kind != probes.KindExec || !c.is(pkgManagers) {
				return nil, false
			}
			if p := c.procs.get(c.Proc.PPID); p != nil && p.runs(pkgManagers) {
				return nil, false // apt running dpkg is one event, not two
			}
			return Details{"args": c.Proc.Args}, true
		},
	},
	{
		Rule: catalog.Rule{
			ID:          "downloader-in-container",
			Name:        "Download tool run in container",
			Description: "wget, curl saving to a file, tftp or ftp ran in a container: a common way to bring attack tools in.",
			Tactic:      "TA0011", TacticName: "Command and Control",
			Technique:  "T1105",
			Events:     []string{"exec"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
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
	},
	{
		Rule: catalog.Rule{
			ID:          "credential-search",
			Name:        "Search for credentials in files",
			Description: "grep, rg or find run with patterns that look for private keys or cloud credentials (BEGIN ... PRIVATE KEY, id_rsa, aws_secret_access_key, .aws/credentials).",
			Tactic:      "TA0006", TacticName: "Credential Access",
			Technique:  "T1552.001",
			Events:     []string{"exec"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			if c.Ev.Kind != probes.KindExec || !c.is(set("grep", "egrep", "fgrep", "rg", "ag", "find", "ack")) {
				return nil, false
			}
			if s, ok := c.argsContain("PRIVATE KEY", "BEGIN RSA", "BEGIN OPENSSH", "id_rsa", "id_ed25519", "id_ecdsa", "aws_secret_access_key", ".aws/credentials", "password="); ok {
				return Details{"pattern": s}, true
			}
			return nil, false
		},
	},
	{
		Rule: catalog.Rule{
			ID:          "network-scanner",
			Name:        "Network scanner run in container",
			Description: "nmap, masscan, zmap, hping3, arp-scan, netdiscover, or nc -z ran inside a container: mapping the network from the inside.",
			Tactic:      "TA0007", TacticName: "Discovery",
			Technique:  "T1046",
			Events:     []string{"exec"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			if c.Ev.Kind != probes.KindExec {
				return nil, false
			}
			if c.is(set("nmap", "masscan", "zmap", "hping3", "arp-scan", "netdiscover", "rustscan", "naabu")) ||
				c.is(set("nc", "ncat", "netcat")) && c.hasArg("-z") {
				return Details{"args": c.Proc.Args}, true
			}
			return nil, false
		},
	},
	{
		Rule: catalog.Rule{
			ID:          "ssh-client-in-container",
			Name:        "SSH client run in container",
			Description: "ssh, scp or sftp ran in a container: moving on to other machines.",
			Tactic:      "TA0008", TacticName: "Lateral Movement",
			Technique:  "T1021.004",
			Events:     []string{"exec"},
			Mitigation: catalog.Log,
		},
		cond: execNamed("ssh", "scp", "sftp", "dbclient"),
	},
	{
		Rule: catalog.Rule{
			ID:          "sudo-in-container",
			Name:        "sudo, su or pkexec run in container",
			Description: "sudo, su, doas or pkexec ran in a container, where nothing should need to change user.",
			Tactic:      "TA0004", TacticName: "Privilege Escalation",
			Technique:  "T1548.003",
			Events:     []string{"exec"},
			Mitigation: catalog.Log,
		},
		cond: execNamed("sudo", "su", "doas", "pkexec"),
	},
	{
		Rule: catalog.Rule{
			ID:          "crypto-miner",
			Name:        "Crypto-miner started",
			Description: "A known miner (xmrig, minerd, cpuminer, ethminer…) ran, or a command line carries mining pool options (stratum+tcp://, --donate-level, -a randomx, cryptonight).",
			Tactic:      "TA0040", TacticName: "Impact",
			Technique:  "T1496",
			Events:     []string{"exec"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
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
	},
	{
		Rule: catalog.Rule{
			ID:          "data-destruction",
			Name:        "Data destruction tool run",
			Description: "shred, wipe, mkfs, mke2fs or dd writing to a device ran in a container.",
			Tactic:      "TA0040", TacticName: "Impact",
			Technique:  "T1485",
			Events:     []string{"exec"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
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
