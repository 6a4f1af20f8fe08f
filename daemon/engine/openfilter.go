package engine

import (
	"slices"

	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/probes"
)

// OpenInterest declares which open events a condition can match, so that
// the kernel emits only those (probes.OpenFilter). An open the condition
// matches must satisfy at least one of the parts that are set:
//   - Writes: it asks for writing (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC);
//     the kernel passes these always, so this only documents the need;
//   - PathPrefixes: its path starts with one of them;
//   - BasePrefixes: its basename (after the last '/') starts with one.
//
// Relative paths always pass (the kernel does not know the full path).
// All, or no declaration at all, means every open: the fail-safe.
type OpenInterest struct {
	All          bool
	Writes       bool
	PathPrefixes []string
	BasePrefixes []string
}

// OpenFilter returns the kernel open prefilter for a rules snapshot: the
// union of the open interests of the rules enabled in some ruleset, or
// nil (every open) when one of them has no usable declaration.
func OpenFilter(snap *rulesets.Snapshot) *probes.OpenFilter {
	return managed.openFilter(snap)
}

func (t *table) openFilter(snap *rulesets.Snapshot) *probes.OpenFilter {
	f := &probes.OpenFilter{}
	if snap == nil {
		return f
	}
	for _, rs := range snap.Rulesets {
		for id := range rs.Rules {
			if !slices.Contains(t.kinds[id], probes.KindOpen) {
				continue // never judges an open (or no such rule)
			}
			in := t.defs[id].open
			if in == nil || in.All {
				return nil
			}
			f.PathPrefixes = append(f.PathPrefixes, in.PathPrefixes...)
			f.BasePrefixes = append(f.BasePrefixes, in.BasePrefixes...)
		}
	}
	slices.Sort(f.PathPrefixes)
	f.PathPrefixes = slices.Compact(f.PathPrefixes)
	slices.Sort(f.BasePrefixes)
	f.BasePrefixes = slices.Compact(f.BasePrefixes)
	if f.Validate() != nil {
		return nil // a prefix the kernel cannot hold: pass every open
	}
	return f
}
