package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/podguard/podguard/daemon"
)

// cmdRun runs the daemon until ctx ends; it logs to Stderr.
func cmdRun(ctx context.Context, c *call) error {
	if c.fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", c.fl.Args())
	}
	log := slog.New(slog.NewTextHandler(c.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return daemon.Run(ctx, daemon.Options{ConfigPath: c.config, EmbeddedRules: c.Rules, Version: c.Version, Logger: log})
}
