//go:build !linux || !amd64

package probes

import (
	"fmt"
	"runtime"
)

// Probes is unavailable on this platform; see ErrUnsupportedArch.
type Probes struct{}

// Load always fails off linux/amd64.
func Load(Options) (*Probes, error) {
	return nil, fmt.Errorf("load probes on %s/%s: %w", runtime.GOOS, runtime.GOARCH, ErrUnsupportedArch)
}
