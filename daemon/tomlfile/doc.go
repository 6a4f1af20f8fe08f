// Package tomlfile decodes a TOML file strictly and reports every problem as
// FILE:LINE: message, the form operators see from `podguard validate`.
//
// BurntSushi/toml knows lines for syntax errors but not for keys, so the
// package keeps its own index of where each key was written; callers use it to
// put a line on their own validation errors.
package tomlfile
