//go:build linux && amd64

package probes

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
)

// openFilterMu serializes filter changes (the state itself lives in the
// kernel maps).
var openFilterMu sync.Mutex

// SetOpenFilter installs f as the open prefilter, replacing any earlier
// one: from then on the kernel emits only the opens f.Passes (in every
// watched cgroup). A nil f clears the filter, as ClearOpenFilter.
//
// The new prefixes are written under a fresh generation beside the old
// ones, then one map write switches the kernel to them, so an open is
// always judged by either the old or the new filter entirely. On error
// the old filter stays in place.
func (p *Probes) SetOpenFilter(f *OpenFilter) error {
	if f == nil {
		return p.ClearOpenFilter()
	}
	if err := f.Validate(); err != nil {
		return err
	}
	openFilterMu.Lock()
	defer openFilterMu.Unlock()
	cur, err := p.openFilterGen()
	if err != nil {
		return err
	}
	// leftovers of an interrupted change would alias the next generation
	if err := p.sweepOpenKeys(func(g uint8) bool { return g != cur }); err != nil {
		return err
	}
	next := cur%255 + 1
	fill := func(m *ebpf.Map, prefixes []string) error {
		for _, s := range prefixes {
			if err := m.Put(openKey(next, s), uint8(1)); err != nil {
				return fmt.Errorf("open filter: add %q: %w", s, err)
			}
		}
		return nil
	}
	err = fill(p.objs.OpenPrefixes, f.PathPrefixes)
	if err == nil {
		err = fill(p.objs.OpenBasenames, f.BasePrefixes)
	}
	for _, d := range f.dirs() {
		if err != nil {
			break
		}
		k := openKey(next, d)
		if err = p.objs.OpenDirs.Put(k, uint8(1+len(d))); err != nil {
			err = fmt.Errorf("open filter: add directory %q: %w", d, err)
		}
	}
	if err == nil {
		err = p.setOpenFilterGen(next)
	}
	if err != nil {
		p.sweepOpenKeys(func(g uint8) bool { return g == next })
		return err
	}
	return p.sweepOpenKeys(func(g uint8) bool { return g != next })
}

// ClearOpenFilter removes the open prefilter: every open of a watched
// cgroup is emitted again, as after Load.
func (p *Probes) ClearOpenFilter() error {
	openFilterMu.Lock()
	defer openFilterMu.Unlock()
	if err := p.setOpenFilterGen(0); err != nil {
		return err
	}
	return p.sweepOpenKeys(func(uint8) bool { return true })
}

func openKey(gen uint8, s string) *probeOpenKey {
	k := &probeOpenKey{Prefixlen: uint32(1+len(s)) * 8}
	k.Data[0] = gen
	copy(k.Data[1:], s)
	return k
}

func (p *Probes) openFilterGen() (uint8, error) {
	var f probeOpenFilter
	if err := p.objs.OpenFilter.Lookup(uint32(0), &f); err != nil {
		return 0, fmt.Errorf("open filter: read generation: %w", err)
	}
	return uint8(f.Gen), nil
}

func (p *Probes) setOpenFilterGen(gen uint8) error {
	if err := p.objs.OpenFilter.Put(uint32(0), probeOpenFilter{Gen: uint32(gen)}); err != nil {
		return fmt.Errorf("open filter: switch to generation %d: %w", gen, err)
	}
	return nil
}

// sweepOpenKeys deletes the trie entries whose generation drop accepts.
func (p *Probes) sweepOpenKeys(drop func(gen uint8) bool) error {
	for _, m := range []*ebpf.Map{p.objs.OpenPrefixes, p.objs.OpenBasenames, p.objs.OpenDirs} {
		var (
			k    probeOpenKey
			v    uint8
			dead []probeOpenKey
		)
		it := m.Iterate()
		for it.Next(&k, &v) {
			if drop(k.Data[0]) {
				dead = append(dead, k)
			}
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("open filter: list %s: %w", m, err)
		}
		for i := range dead {
			if err := m.Delete(&dead[i]); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				return fmt.Errorf("open filter: delete from %s: %w", m, err)
			}
		}
	}
	return nil
}
