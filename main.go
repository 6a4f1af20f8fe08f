// Command podguard is a runtime-security agent for Kubernetes nodes.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/podguard/podguard/daemon"
	"github.com/podguard/podguard/daemon/tomlfile"
)

//go:embed rules.d/*.toml
var shippedRules embed.FS

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name, args, help string
	run              func(ctx context.Context, fl *flag.FlagSet, configPath string) error
	flags            func(fl *flag.FlagSet)
}

var commands = []command{
	{name: "run", help: "Run the daemon: attach probes, load rulesets, watch them, mitigate.", run: cmdRun},
	{name: "validate", args: "[PATH...]", help: "Check ruleset files or directories (default: the configured rules directory).\nExit 0 when all are valid; otherwise print FILE:LINE: message per problem and exit 1.", run: cmdValidate},
	{name: "rules", help: "List the managed rule catalog.", run: cmdRules, flags: jsonFlag},
	{name: "status", help: "Ask the running daemon what it enforces: rulesets and their state, probes, counters.", run: cmdStatus, flags: jsonFlag},
	{name: "events", help: "Show detection events: from the running daemon, else from the events file.", run: cmdEvents, flags: eventsFlags},
	{name: "release", args: "POD", help: "Lift a pod's network isolation (POD: name, namespace/name or uid).", run: cmdRelease},
	{name: "kernel", help: "Show which kernel features podguard found, and what it does without the missing ones.", run: cmdKernel, flags: jsonFlag},
	{name: "version", help: "Print podguard's version.", run: func(context.Context, *flag.FlagSet, string) error {
		fmt.Println("podguard", version)
		return nil
	}},
}

func jsonFlag(fl *flag.FlagSet) { fl.Bool("json", false, "print JSON instead of a table") }

// exitError carries an exit code without printing anything more.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var cmd *command
	for i := range commands {
		if commands[i].name == args[0] {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "podguard: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	fl := flag.NewFlagSet("podguard "+cmd.name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	configPath := fl.String("config", "", "config file (default "+"/etc/podguard/config.toml if it exists, else built-in defaults)")
	if cmd.flags != nil {
		cmd.flags(fl)
	}
	fl.Usage = func() {
		fmt.Fprintf(stderr, "Usage: podguard %s [--config PATH] %s\n\n%s\n\nFlags:\n", cmd.name, cmd.args, cmd.help)
		fl.PrintDefaults()
	}
	if err := fl.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.run(ctx, fl, *configPath)
	var code exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	default:
		var probs tomlfile.Problems
		if errors.As(err, &probs) {
			fmt.Fprintln(stderr, probs.Error())
		} else {
			fmt.Fprintf(stderr, "podguard %s: %v\n", cmd.name, err)
		}
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "podguard: runtime security for Kubernetes nodes\n\nUsage: podguard <command> [--config PATH] [flags]\n\nCommands:\n")
	for _, c := range commands {
		first := c.help
		for i, r := range c.help {
			if r == '\n' {
				first = c.help[:i]
				break
			}
		}
		fmt.Fprintf(w, "  %-9s %s\n", c.name, first)
	}
	fmt.Fprintf(w, "\nRun `podguard <command> --help` for a command's flags.\n")
}

func cmdRun(ctx context.Context, fl *flag.FlagSet, configPath string) error {
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fl.Args())
	}
	rules, err := fs.Sub(shippedRules, "rules.d")
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return daemon.Run(ctx, daemon.Options{ConfigPath: configPath, EmbeddedRules: rules, Version: version, Logger: log})
}
