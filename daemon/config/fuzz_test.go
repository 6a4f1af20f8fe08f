package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/podguard/podguard/daemon/tomlfile"
)

// FuzzParse: any bytes give a config or problems with a line inside the
// file, never a panic.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"enabled = false\n[containerd]\naddress = \"/x.sock\"\n[isolate]\nallow = [\"10.0.0.1/32\"]\n",
		"[metrics]\nlisten = \"\"\n", "[events.webhook]\nurl = \"http://127.0.0.1:1/\"\nformat = \"falco\"\n",
		"enabled = \"yes\"\n", "bogus = 1\n", "[[api]]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("c.toml", data)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c != nil, err)
		}
		var probs tomlfile.Problems
		if err != nil && !errors.As(err, &probs) {
			t.Fatalf("error is not a list of problems: %v", err)
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, p := range probs {
			if p.Line < 0 || p.Line > lines || p.Msg == "" {
				t.Fatalf("problem %+v out of the file's %d lines", p, lines)
			}
		}
	})
}
