package cli

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// printable returns s safe to write to an operator's terminal: control
// characters (C0, DEL, C1, and the Unicode format characters that reorder
// or hide text) and invalid UTF-8 are written as Go escapes (\x1b, \n,
// \u202e, \xff), so a process's argv or a file name cannot forge table
// rows or send escape sequences. A backslash is doubled, so an escape in
// the output always means an escaped byte. JSON output stays exact.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r == '\\' || unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports the runes a terminal does not print as themselves.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// trim shortens s to at most n runes, ending in "…" when it was cut; it
// never splits a rune (s is already printable).
func trim(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := 0
	for i := range s {
		if runes == n-1 {
			return s[:i] + "…"
		}
		runes++
	}
	return s
}
