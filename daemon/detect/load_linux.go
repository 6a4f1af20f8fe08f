//go:build linux && amd64

package detect

import "github.com/podguard/podguard/probes"

// loadProbes loads and attaches the kernel probes.
func loadProbes(o probes.Options) (kernel, error) {
	p, err := probes.Load(o)
	if err != nil {
		return nil, err // not p: a nil *Probes in an interface is not nil
	}
	return p, nil
}
