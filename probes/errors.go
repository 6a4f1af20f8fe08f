package probes

import "errors"

// ErrUnsupportedArch is returned by Load where the probes cannot run:
// they read x86_64 syscall numbers and registers.
var ErrUnsupportedArch = errors.New("probes support linux/amd64 only")
