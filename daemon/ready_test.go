package daemon

import (
	"testing"

	"github.com/podguard/podguard/daemon/api"
)

// TestReadyState checks what `systemctl status podguard` shows once the
// daemon is up: never "probes attached" when they are not.
func TestReadyState(t *testing.T) {
	two := api.RulesStatus{Active: []string{"default", "php"}}
	for _, c := range []struct {
		name string
		st   api.Status
		want string
	}{
		{"attached", api.Status{Enabled: true, Rules: two, Probes: api.ProbesStatus{Attached: []string{"sys_enter"}}},
			"READY=1\nSTATUS=probes attached; 2 ruleset(s) in force"},
		{"attach failed", api.Status{Enabled: true, Rules: two, Probes: api.ProbesStatus{Error: "load programs: operation not permitted\n(lockdown?)"}},
			"READY=1\nSTATUS=probes NOT attached: load programs: operation not permitted (lockdown?); 2 ruleset(s) in force"},
		{"disabled", api.Status{Enabled: false, Probes: api.ProbesStatus{Note: "detached: enabled = false"}},
			"READY=1\nSTATUS=probes detached: enabled = false; 0 ruleset(s) in force"},
	} {
		if got := readyState(c.st); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
