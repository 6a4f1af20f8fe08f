package engine

import (
	"testing"

	"github.com/podguard/podguard/probes"
)

func TestLinkTarget(t *testing.T) {
	for _, c := range []struct {
		kind         probes.Kind
		target, link string
		want, what   string
	}{
		{probes.KindSymlink, "../proc/1/root", "/tmp/r", "/proc/1/root", "process-root"},
		{probes.KindSymlink, "../../etc/./shadow", "/var/tmp/s", "/etc/shadow", "credentials"},
		{probes.KindSymlink, "/var/run/secrets/kubernetes.io/serviceaccount/token", "/t", "/var/run/secrets/kubernetes.io/serviceaccount/token", "service-account-token"},
		{probes.KindLink, "/root/.ssh/id_ed25519", "/tmp/k", "/root/.ssh/id_ed25519", "private-key"},
		{probes.KindLink, "/etc/sudoers.d/app", "/tmp/k", "/etc/sudoers.d/app", "credentials"},
		{probes.KindSymlink, "shadow", "/tmp/shadow", "/tmp/shadow", ""},                          // a file named like it
		{probes.KindLink, "/root/.ssh/id_ed25519.pub", "/tmp/k", "/root/.ssh/id_ed25519.pub", ""}, // public
		{probes.KindSymlink, "/proc/self/fd/3", "/tmp/f", "/proc/self/fd/3", ""},
	} {
		e := &probes.Record{Kind: c.kind, Path: c.target, Path2: c.link}
		got := linkTarget(e)
		if got != c.want || sensitiveTarget(got) != c.what {
			t.Errorf("%v %s -> %s: target %s (%q), want %s (%q)", c.kind, c.link, c.target, got, sensitiveTarget(got), c.want, c.what)
		}
	}
}
