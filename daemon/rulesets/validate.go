package rulesets

import (
	"fmt"
	"os"

	"github.com/podguard/podguard/daemon/tomlfile"
)

// Validate checks ruleset files and directories as the daemon would load
// them, including names duplicated across files. It returns the files
// checked and every problem found.
func Validate(paths []string) (int, tomlfile.Problems) {
	var entries []entry
	var probs tomlfile.Problems
	for _, p := range paths {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			probs = append(probs, tomlfile.Problem{File: p, Msg: fmt.Sprintf("cannot read: %v", err)})
		case fi.IsDir():
			es, err := readDir(p)
			if err != nil {
				probs = append(probs, tomlfile.Problem{File: p, Msg: err.Error()})
			}
			entries = append(entries, es...)
		default:
			entries = append(entries, readFile(p))
		}
	}
	names := map[string]string{}
	for _, e := range entries {
		if e.prob != nil {
			probs = append(probs, *e.prob)
			continue
		}
		rs, ps := Parse(e.path, e.data)
		probs = append(probs, ps...)
		if rs == nil {
			continue
		}
		if other, dup := names[rs.Name]; dup {
			probs = append(probs, tomlfile.Problem{File: e.path, Line: 1, Msg: fmt.Sprintf("ruleset name %q is already used by %s; give this ruleset a different name", rs.Name, other)})
			continue
		}
		names[rs.Name] = e.path
	}
	return len(entries), probs
}
