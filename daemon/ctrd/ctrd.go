package ctrd

import (
	"context"
	"fmt"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
)

// Timeouts, by caller. Each bounds Connect's first call, and is what the
// client gives gRPC (containerd.WithTimeout) as the connect timeout and
// the longest pause between redials of a lost connection.
const (
	// ResolverTimeout is the workload resolver's. The resolver reconnects
	// by itself on any error, with backoff up to 5 s, and relists, so its
	// client need not redial faster than that; a containerd that is busy
	// starting up gets as long to answer.
	ResolverTimeout = 5 * time.Second
	// MitigateTimeout is mitigate's (terminate's kills, a pod sandbox's
	// network). Mitigations run during an incident: with containerd down
	// they must fail fast (terminate retries, the next event tries again),
	// and the client they keep redials at least every 2 s, so the first
	// mitigation after containerd comes back does not wait out a long
	// backoff.
	MitigateTimeout = 2 * time.Second
)

// Connect returns a client of the containerd listening on address whose
// calls default to namespace, once containerd has answered (its version)
// within timeout. Close the client when done.
func Connect(ctx context.Context, address, namespace string, timeout time.Duration) (*containerd.Client, error) {
	c, err := containerd.New(address, containerd.WithDefaultNamespace(namespace), containerd.WithTimeout(timeout))
	if err != nil {
		return nil, unreachable(address, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := c.Version(ctx); err != nil {
		c.Close()
		return nil, unreachable(address, err)
	}
	return c, nil
}

// unreachable says what to check when containerd does not answer.
func unreachable(address string, err error) error {
	return fmt.Errorf("connect containerd at %s (check that containerd runs and that [containerd] address in the config is its socket): %w", address, err)
}
