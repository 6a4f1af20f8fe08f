package daemon

import (
	"fmt"

	"github.com/podguard/podguard/daemon/engine"
	"github.com/podguard/podguard/probes"
)

// openFilterState is the open prefilter last installed, and into which
// probes (a restart loads fresh ones, without a filter).
type openFilterState struct {
	probes *probes.Probes
	key    string
}

// openFilterLocked installs the kernel's open prefilter for the rules in
// force (engine.OpenFilter): only opens some active rule can match reach
// userspace. It runs before the watched set is reprogrammed, so that a
// newly enabled rule never waits behind the old filter. If installing
// fails, the filter is cleared: every open is reported, as without one.
func (e *enforcer) openFilterLocked() {
	if e.probes == nil {
		return
	}
	f := engine.OpenFilter(e.d.store.Current())
	key := "all"
	if f != nil {
		key = fmt.Sprintf("%q %q", f.PathPrefixes, f.BasePrefixes)
	}
	if e.openFilter.probes == e.probes && e.openFilter.key == key {
		return
	}
	if err := e.probes.SetOpenFilter(f); err != nil {
		e.d.log.Error("open prefilter not installed: every open is reported", "err", err)
		if err := e.probes.ClearOpenFilter(); err != nil {
			e.d.log.Error("clear open prefilter", "err", err)
		}
		e.openFilter = openFilterState{}
		return
	}
	e.openFilter = openFilterState{e.probes, key}
	if f == nil {
		e.d.log.Info("open prefilter off: an active rule needs every open")
		return
	}
	e.d.log.Info("open prefilter installed", "prefixes", f.Prefixes(),
		"path_prefixes", len(f.PathPrefixes), "basename_prefixes", len(f.BasePrefixes))
}
