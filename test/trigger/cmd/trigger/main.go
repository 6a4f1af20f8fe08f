//go:build linux

// Command trigger performs kernel actions for podguard's tests, one
// invocation each (package trigger). Usage: trigger <action> [args...].
package main

import (
	"os"

	"github.com/podguard/podguard/test/trigger"
)

func main() { os.Exit(trigger.Main(os.Args[1:])) }
