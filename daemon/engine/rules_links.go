package engine

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

var (
	credentialFiles = []string{"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers"}
	procRoot        = regexp.MustCompile(`^/proc/(\d+|self|thread-self)(/task/\d+)?/(root|cwd)(/|$)`)
)

// sensitiveTarget names what kind of sensitive file p is, "" for none:
// the files whose reading is credential access, and other processes'
// root (through which the host's files are reached from a host-pid pod).
func sensitiveTarget(p string) string {
	switch {
	case slices.Contains(credentialFiles, p) || strings.HasPrefix(p, "/etc/sudoers.d/"):
		return "credentials"
	case saToken.MatchString(p):
		return "service-account-token"
	case strings.Contains(p, "/.ssh/id_") && strings.HasPrefix(path.Base(p), "id_") && !strings.HasSuffix(p, ".pub"), hasPrefix(p, pkiDirs...):
		return "private-key"
	case procRoot.MatchString(p):
		return "process-root"
	}
	return ""
}

// linkTarget is what a link event points at, cleaned: a hard link's
// existing file, or a symbolic link's content resolved against the
// directory the link is made in.
func linkTarget(e *probes.Record) string {
	t := e.Path
	if e.Kind == probes.KindSymlink && !strings.HasPrefix(t, "/") {
		t = path.Join(path.Dir(e.Path2), t)
	}
	return path.Clean(t)
}

// linkRules judge links made to sensitive files: a new name under which a
// credential can be read later (the read then names the link, not the
// file), or through which a privileged writer can be aimed at it.
var linkRules = []definition{
	{
		Rule: catalog.Rule{
			ID:          "sensitive-file-linked",
			Name:        "Link made to a credential file or another process's root",
			Description: "A hard or symbolic link was created that points at a credential file (/etc/shadow, /etc/gshadow, sudoers, a service account token, an SSH private key, the node's Kubernetes PKI) or at a process's root or cwd under /proc: a way to read it later under an innocent name, or to aim a privileged writer at it.",
			Tactic:      "TA0006", TacticName: "Credential Access",
			Technique:  "T1552",
			Events:     []string{"link", "symlink"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			if e.Kind != probes.KindLink && e.Kind != probes.KindSymlink {
				return nil, false
			}
			t := linkTarget(e)
			what := sensitiveTarget(t)
			if what == "" {
				return nil, false
			}
			kind := "hard"
			if e.Kind == probes.KindSymlink {
				kind = "symbolic"
			}
			return Details{"target": t, "link": e.Path2, "link_type": kind, "target_kind": what}, true
		},
	},
}
