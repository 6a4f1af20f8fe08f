//go:build !linux

package isolate

import (
	"errors"
	"log/slog"
	"net/netip"
)

// Isolator is only implemented on Linux.
type Isolator struct{}

var errNotLinux = errors.New("pod isolation needs linux")

// New always fails outside Linux.
func New(stateDir string, allow []netip.Prefix, logger *slog.Logger) (*Isolator, error) {
	return nil, errNotLinux
}

func (*Isolator) Close() error                                { return nil }
func (*Isolator) Apply(Target) (bool, error)                  { return false, errNotLinux }
func (*Isolator) Release(string) error                        { return errNotLinux }
func (*Isolator) List() []Record                              { return nil }
func (*Isolator) Rejected() []Record                          { return nil }
func (*Isolator) Reconcile(func(string) (string, bool)) error { return errNotLinux }

// Installed always fails outside Linux.
func Installed() ([]Attachment, error) { return nil, errNotLinux }
