// Package cli is podguard's command line: the dispatcher, each command's
// flags and help, and what each command prints. Commands write only to the
// App's Stdout and Stderr, so their output is tested without building the
// binary; the exit code is Run's result.
//
// It sits between main and daemon: it imports daemon and its leaf packages
// (the daemon/api client among them). Nothing imports cli but main.
package cli
