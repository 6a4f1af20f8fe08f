// Package rulesets reads, validates and compiles the TOML rulesets an
// operator drops into the rules directory, and keeps the set in force.
//
// A ruleset names the pods it applies to (label selector) and the managed
// rules it enables, each with a mitigation. Parse turns one file into a
// Ruleset or a list of problems with file and line. Store loads a whole
// directory, keeps the last good version of every file that stops
// validating, remembers which file holds which ruleset name (a name never
// changes once created) and hands out immutable Snapshots that are swapped
// atomically, so there is never a moment with no rules.
package rulesets
