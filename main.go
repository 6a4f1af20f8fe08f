// Command podguard is a runtime-security agent for Kubernetes nodes. The
// command line lives in package cli; main holds what must sit at the
// module's root: the shipped rulesets and the build's version.
package main

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"syscall"

	"github.com/podguard/podguard/cli"
)

//go:embed rules.d/*.toml
var shippedRules embed.FS

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	rules, err := fs.Sub(shippedRules, "rules.d")
	if err != nil {
		fmt.Fprintf(os.Stderr, "podguard: shipped rulesets: %v\n", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := &cli.App{Version: version, Rules: rules, Stdout: os.Stdout, Stderr: os.Stderr}
	code := app.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
