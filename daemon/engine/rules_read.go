package engine

import (
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/podguard/podguard/daemon/catalog"
)

var (
	procPidFile  = regexp.MustCompile(`^/proc/(\d+|self|thread-self)/(?:task/\d+/)?(mem|environ|exe)$`)
	saToken      = regexp.MustCompile(`/secrets/kubernetes\.io/serviceaccount/(\.\.[^/]+/)?token$|/serviceaccount/token$`)
	tokenReaders = set("cat", "head", "tail", "less", "more", "base64", "strings", "xxd", "od", "curl", "wget", "nc", "dd", "cp", "tar", "grep")
	loginTools   = set("login", "passwd", "chpasswd", "sshd", "su", "sudo", "unix_chkpwd", "useradd", "usermod", "userdel", "groupadd", "vipw", "chage", "newgrp", "gpasswd", "pwck", "grpck")
	hostDisks    = []string{"/dev/sd", "/dev/nvme", "/dev/vd", "/dev/xvd", "/dev/dm-", "/dev/hd", "/dev/mmcblk"}
	pkiDirs      = []string{"/etc/kubernetes/pki/", "/var/lib/kubelet/pki/"}
	keyReaders   = set("ssh", "sshd", "ssh-agent", "ssh-add", "scp", "sftp", "git", "kubelet", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kubeadm")
)

const nrOpenByHandleAt = 304 // x86_64; ia32 calls carry this number too

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
	// The kernel resolved /proc/self to the caller's own pid directory:
	// a path written as /proc/self/... (cleaned, so /proc/self/../1 is
	// not) names the caller, whatever its pid in its namespace.
	if raw := c.Ev.RawPath; strings.HasPrefix(raw, "/") {
		if r := procPidFile.FindStringSubmatch(path.Clean(raw)); r != nil && (r[1] == "self" || r[1] == "thread-self") {
			return r[1], false
		}
	}
	// Inside a container the process names itself by its pid there.
	return m[1], m[1] != strconv.Itoa(int(c.Proc.NSPID()))
}

// readRules judge which files are opened: secrets, other processes'
// memory and environment, the host's disks.
var readRules = []definition{
	{
		Rule: catalog.Rule{
			ID:          "proc-mem-access",
			Name:        "Another process's memory opened through /proc",
			Description: "/proc/<pid>/mem of another process was opened: reading or patching a running program's memory (credential theft, injection).",
			Tactic:      "TA0005", TacticName: "Defense Evasion",
			Technique:  "T1055.009",
			Events:     []string{"open"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			p, _, ok := c.openedOrTried()
			if !ok {
				return nil, false
			}
			if pid, other := c.procTarget(p, "mem"); other {
				d := c.openDetails(p)
				d["target_pid"] = pid
				return d, true
			}
			return nil, false
		},
		open: &OpenInterest{BasePrefixes: []string{"mem"}},
	},
	{
		Rule: catalog.Rule{
			ID:          "shadow-file-read",
			Name:        "Password hashes or sudo rules read",
			Description: "/etc/shadow, /etc/gshadow, /etc/sudoers or /etc/sudoers.d was opened by a program that is not a login or password tool.",
			Tactic:      "TA0006", TacticName: "Credential Access",
			Technique:  "T1003.008",
			Events:     []string{"open"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			p, _, ok := c.openedOrTried()
			if !ok || c.exempt(loginTools) {
				return nil, false
			}
			if c.pathIs(p, credentialFiles...) || strings.HasPrefix(p, "/etc/sudoers.d/") {
				return c.openDetails(p), true
			}
			return nil, false
		},
		open: &OpenInterest{PathPrefixes: []string{"/etc/shadow", "/etc/gshadow", "/etc/sudoers"}},
	},
	{
		Rule: catalog.Rule{
			ID:          "service-account-token-read",
			Name:        "Kubernetes service-account token read by a shell or tool",
			Description: "The pod's service-account token was read by a shell, cat, head, base64, curl, wget, python or a program not from the image: a step toward the Kubernetes API with the pod's identity.",
			Tactic:      "TA0006", TacticName: "Credential Access",
			Technique:  "T1528",
			Events:     []string{"open"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			p, w, ok := c.opened()
			if !ok || w || !saToken.MatchString(p) {
				return nil, false
			}
			if c.isShell() || c.isInterpreter() || c.is(tokenReaders) || !c.Proc.FromImage() {
				return Details{"path": p}, true
			}
			return nil, false
		},
		open: &OpenInterest{BasePrefixes: []string{"token"}},
	},
	{
		Rule: catalog.Rule{
			ID:          "private-key-read",
			Name:        "SSH private key or cluster PKI read",
			Description: "An SSH private key (~/.ssh/id_*) or the node's Kubernetes PKI (/etc/kubernetes/pki, /var/lib/kubelet/pki) was opened by something other than ssh or a Kubernetes component.",
			Tactic:      "TA0006", TacticName: "Credential Access",
			Technique:  "T1552.004",
			Events:     []string{"open"},
			Mitigation: catalog.Isolate,
		},
		cond: func(c *Ctx) (Details, bool) {
			p, _, ok := c.openedOrTried()
			if !ok || c.exempt(keyReaders) {
				return nil, false
			}
			// the key file itself is named id_*: its basename is what the
			// kernel's open prefilter can see
			if strings.Contains(p, "/.ssh/id_") && strings.HasPrefix(path.Base(p), "id_") && !strings.HasSuffix(p, ".pub") || hasPrefix(p, pkiDirs...) {
				return c.openDetails(p), true
			}
			return nil, false
		},
		open: &OpenInterest{BasePrefixes: []string{"id_"}, PathPrefixes: pkiDirs},
	},
	{
		Rule: catalog.Rule{
			ID:          "proc-environ-read",
			Name:        "Another process's environment read",
			Description: "/proc/<pid>/environ of another process was read: harvesting secrets passed as environment variables.",
			Tactic:      "TA0006", TacticName: "Credential Access",
			Technique:  "T1552",
			Events:     []string{"open"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			p, _, ok := c.openedOrTried()
			if !ok {
				return nil, false
			}
			if pid, other := c.procTarget(p, "environ"); other {
				d := c.openDetails(p)
				d["target_pid"] = pid
				return d, true
			}
			return nil, false
		},
		open: &OpenInterest{BasePrefixes: []string{"environ"}},
	},
	{
		Rule: catalog.Rule{
			ID:          "host-device-access",
			Name:        "Host disk or kernel memory device opened",
			Description: "A block device (/dev/sd*, /dev/nvme*, /dev/vd*, /dev/xvd*, /dev/dm-*), /dev/mem, /dev/kmem, /dev/port or /proc/kcore was opened from a container, or a file was opened (or tried) by handle (open_by_handle_at, the \"shocker\" escape).",
			Tactic:      "TA0004", TacticName: "Privilege Escalation",
			Technique:  "T1611",
			Events:     []string{"open"},
			Mitigation: catalog.Terminate,
		},
		cond: func(c *Ctx) (Details, bool) {
			p, w, ok := c.openedOrTried()
			if !ok {
				return nil, false
			}
			byHandle := c.Ev.Syscall == nrOpenByHandleAt
			if byHandle || hasPrefix(p, hostDisks...) || c.pathIs(p, "/dev/mem", "/dev/kmem", "/dev/port", "/proc/kcore") {
				d := c.openDetails(p)
				d["write"] = w
				if byHandle {
					d["syscall"] = "open_by_handle_at"
				}
				return d, true
			}
			return nil, false
		},
		open: &OpenInterest{PathPrefixes: append([]string{"/dev/mem", "/dev/kmem", "/dev/port", "/proc/kcore"}, hostDisks...)},
	},
}
