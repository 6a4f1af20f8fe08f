// Package config reads podguard's configuration file (TOML, strict: an
// unknown key is an error with file and line) and fills in defaults, so that
// a node with no file at all gets a working daemon.
package config
