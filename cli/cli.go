package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"text/tabwriter"

	"github.com/podguard/podguard/daemon/tomlfile"
)

// App is the podguard command line bound to its build and its output.
type App struct {
	Version string // printed by `version` and reported by the daemon
	Rules   fs.FS  // the shipped rulesets (the rules.d directory's files)
	Stdout  io.Writer
	Stderr  io.Writer
}

// call is one command's invocation: the App, its parsed flags and --config.
type call struct {
	*App
	fl     *flag.FlagSet
	config string
}

type command struct {
	name, args, help string
	run              func(ctx context.Context, c *call) error
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
	{name: "version", help: "Print podguard's version.", run: cmdVersion},
}

// exitError carries an exit code without printing anything more.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// Run runs the command named by args[0] and returns the process's exit
// code: 0 done, 1 the command failed (it said why on Stderr), 2 a usage
// error. ctx ends the command (the daemon stops on it).
func (a *App) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		a.usage()
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
		fmt.Fprintf(a.Stderr, "podguard: unknown command %q\n\n", args[0])
		a.usage()
		return 2
	}
	fl := flag.NewFlagSet("podguard "+cmd.name, flag.ContinueOnError)
	fl.SetOutput(a.Stderr)
	configPath := fl.String("config", "", "config file (default "+"/etc/podguard/config.toml if it exists, else built-in defaults)")
	if cmd.flags != nil {
		cmd.flags(fl)
	}
	fl.Usage = func() {
		fmt.Fprintf(a.Stderr, "Usage: podguard %s [--config PATH] %s\n\n%s\n\nFlags:\n", cmd.name, cmd.args, cmd.help)
		fl.PrintDefaults()
	}
	if err := fl.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	err := cmd.run(ctx, &call{App: a, fl: fl, config: *configPath})
	var code exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	default:
		var probs tomlfile.Problems
		if errors.As(err, &probs) {
			fmt.Fprintln(a.Stderr, probs.Error())
		} else {
			fmt.Fprintf(a.Stderr, "podguard %s: %v\n", cmd.name, err)
		}
		return 1
	}
}

func (a *App) usage() {
	fmt.Fprintf(a.Stderr, "podguard: runtime security for Kubernetes nodes\n\nUsage: podguard <command> [--config PATH] [flags]\n\nCommands:\n")
	for _, c := range commands {
		first := c.help
		for i, r := range c.help {
			if r == '\n' {
				first = c.help[:i]
				break
			}
		}
		fmt.Fprintf(a.Stderr, "  %-9s %s\n", c.name, first)
	}
	fmt.Fprintf(a.Stderr, "\nRun `podguard <command> --help` for a command's flags.\n")
}

func jsonFlag(fl *flag.FlagSet) { fl.Bool("json", false, "print JSON instead of a table") }

// asJSON reports whether --json was given.
func (c *call) asJSON() bool {
	f := c.fl.Lookup("json")
	return f != nil && f.Value.String() == "true"
}

// printJSON writes v to Stdout, indented.
func (c *call) printJSON(v any) error {
	enc := json.NewEncoder(c.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table returns the tab-aligned writer every table on Stdout uses.
func (c *call) table() *tabwriter.Writer {
	return tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
}
