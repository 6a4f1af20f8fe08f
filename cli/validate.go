package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/podguard/podguard/daemon/config"
	"github.com/podguard/podguard/daemon/rulesets"
)

// cmdValidate prints FILE:LINE: message per problem on Stdout and exits 1,
// or says all is well.
func cmdValidate(_ context.Context, c *call) error {
	paths := c.fl.Args()
	if len(paths) == 0 {
		cfg, err := config.Load(c.config)
		if err != nil {
			return err
		}
		if _, err := os.Stat(cfg.RulesDir); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(c.Stderr, "rules directory %s does not exist: podguard uses its built-in rulesets (`podguard rules` lists the managed rules)\n", cfg.RulesDir)
			return nil
		}
		paths = []string{cfg.RulesDir}
	}
	n, probs := rulesets.Validate(paths)
	if len(probs) == 0 {
		fmt.Fprintf(c.Stdout, "ok: %d ruleset file(s) valid\n", n)
		return nil
	}
	for _, p := range probs {
		fmt.Fprintln(c.Stdout, p.Error())
	}
	fmt.Fprintf(c.Stderr, "%d problem(s) in %d file(s) checked\n", len(probs), n)
	return exitError(1)
}
