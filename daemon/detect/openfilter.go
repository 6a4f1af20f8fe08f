package detect

import (
	"fmt"

	"github.com/podguard/podguard/daemon/engine"
)

// openFilterState is the open prefilter last installed, and into which
// probes (a restart loads fresh ones, without a filter).
type openFilterState struct {
	k   kernel
	key string
}

// openFilterLocked installs the kernel's open prefilter for the rules in
// force (engine.OpenFilter): only opens some active rule can match reach
// userspace. It runs before the watched set is reprogrammed, so that a
// newly enabled rule never waits behind the old filter. If installing
// fails, the filter is cleared: every open is reported, as without one.
func (s *probeSet) openFilterLocked() {
	if s.k == nil {
		return
	}
	f := engine.OpenFilter(s.rules.Current())
	key := "all"
	if f != nil {
		key = fmt.Sprintf("%q %q", f.PathPrefixes, f.BasePrefixes)
	}
	if s.openFilter.k == s.k && s.openFilter.key == key {
		return
	}
	if err := s.k.SetOpenFilter(f); err != nil {
		s.log.Error("open prefilter not installed: every open is reported", "err", err)
		if err := s.k.ClearOpenFilter(); err != nil {
			s.log.Error("clear open prefilter", "err", err)
		}
		s.openFilter = openFilterState{}
		return
	}
	s.openFilter = openFilterState{s.k, key}
	if f == nil {
		s.log.Info("open prefilter off: an active rule needs every open")
		return
	}
	s.log.Info("open prefilter installed", "prefixes", f.Prefixes(),
		"path_prefixes", len(f.PathPrefixes), "basename_prefixes", len(f.BasePrefixes))
}
