package daemon

import (
	"fmt"
	"strings"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/sdnotify"
)

// notifyReady tells systemd (Type=notify) that the daemon serves its API,
// and what it found true on the way: probes attached or why not, and the
// rulesets in force.
func (d *Daemon) notifyReady() {
	if err := sdnotify.Notify(readyState(d.Status())); err != nil {
		d.log.Warn("tell systemd podguard is ready", "err", err)
	}
}

// notifyStopping tells systemd that the daemon is shutting down.
func (d *Daemon) notifyStopping() {
	if err := sdnotify.Notify("STOPPING=1"); err != nil {
		d.log.Warn("tell systemd podguard is stopping", "err", err)
	}
}

// readyState is the sd_notify message for a daemon in state st. Its STATUS
// (what `systemctl status` shows) says whether detection actually runs.
func readyState(st api.Status) string {
	var probes string
	switch {
	case len(st.Probes.Attached) > 0:
		probes = "probes attached"
	case st.Probes.Error != "":
		// A newline would end the assignment: keep the reason on one line.
		probes = "probes NOT attached: " + strings.Join(strings.Fields(st.Probes.Error), " ")
	case !st.Enabled:
		probes = "probes detached: enabled = false"
	default:
		probes = "probes NOT attached"
	}
	return fmt.Sprintf("READY=1\nSTATUS=%s; %d ruleset(s) in force", probes, len(st.Rules.Active))
}
