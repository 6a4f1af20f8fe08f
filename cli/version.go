package cli

import (
	"context"
	"fmt"
)

func cmdVersion(_ context.Context, c *call) error {
	_, err := fmt.Fprintln(c.Stdout, "podguard", c.Version)
	return err
}
