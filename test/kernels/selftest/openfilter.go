//go:build linux && amd64

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/podguard/podguard/probes"
	"github.com/podguard/podguard/test/trigger"
)

// openFilterCheck installs an open prefilter and checks, in a watched
// cgroup, that a read open matching no prefix is not reported while a
// path prefix, a basename prefix, a relative path and a write are; then
// clears the filter again.
func openFilterCheck(p *probes.Probes, c *collector, tmp, self string) error {
	cg, err := newCgroup("podguard-selftest-openfilter")
	if err != nil {
		return err
	}
	defer cg.remove()
	if err := p.SetWatched(cg.ID, probes.KindsOf(probes.KindOpen), 0); err != nil {
		return err
	}
	defer p.Unwatch(cg.ID)
	dir := filepath.Join(tmp, "openfilter")
	if err := os.MkdirAll(filepath.Join(dir, "pass"), 0o755); err != nil {
		return err
	}
	f := &probes.OpenFilter{PathPrefixes: []string{dir + "/pass/"}, BasePrefixes: []string{"pgbase_"}}
	if err := p.SetOpenFilter(f); err != nil {
		return err
	}
	defer p.ClearOpenFilter()
	miss, prefix, base, barrier := dir+"/miss", dir+"/pass/x", dir+"/pgbase_y", dir+"/barrier"
	pid, st, err := cg.start(self, "open-read", miss, prefix, base, "relative", trigger.Then, "open-write", barrier)
	if err != nil {
		return err
	}
	if !st.Success() {
		return fmt.Errorf("child: %v", st)
	}
	if err := c.waitFor("write open of "+barrier, func(e *probes.Record) bool { return int(e.TGID) == pid && e.Path == barrier }); err != nil {
		return err
	}
	var got []string
	c.each(func(e *probes.Record) {
		if int(e.TGID) == pid && e.Kind == probes.KindOpen {
			got = append(got, e.RawPath)
		}
	})
	for _, want := range []string{prefix, base, "relative", barrier} {
		if !slices.Contains(got, want) {
			return fmt.Errorf("open of %s not reported (got %q)", want, got)
		}
	}
	if slices.Contains(got, miss) {
		return fmt.Errorf("open of %s reported despite the filter", miss)
	}
	return nil
}
