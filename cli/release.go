package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/config"
)

// cmdRelease asks the daemon to lift a pod's network isolation.
func cmdRelease(ctx context.Context, c *call) error {
	if c.fl.NArg() != 1 {
		return fmt.Errorf("give the pod to release: a name, namespace/name or uid (see `podguard status`)")
	}
	cfg, err := config.LoadForClient(c.config)
	if cfg == nil {
		return err
	}
	rec, err := api.NewClient(cfg.API.Socket).Release(ctx, c.fl.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "released %s (uid %s): isolated by rule %s since %s\n", rec.Pod, rec.UID, rec.Rule, rec.Since.Format(time.RFC3339))
	return nil
}
