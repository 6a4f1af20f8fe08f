package rulesets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func write(tb testing.TB, dir, name, src string) {
	tb.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func ruleset(name, mitigation string) string {
	return "name = \"" + name + "\"\n[[rule]]\nid = \"container-drift\"\nmitigation = \"" + mitigation + "\"\n"
}

func fileStatus(tb testing.TB, s *Snapshot, base string) FileStatus {
	tb.Helper()
	for _, f := range s.Files {
		if filepath.Base(f.File) == base {
			return f
		}
	}
	tb.Fatalf("no status for %s in %+v", base, s.Files)
	return FileStatus{}
}

func active(s *Snapshot) string {
	var names []string
	for _, rs := range s.Rulesets {
		names = append(names, rs.Name+"="+rs.Rules["container-drift"].String())
	}
	return strings.Join(names, ",")
}

func TestStoreKeepsLastGoodVersion(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	write(t, dir, "a.toml", ruleset("alpha", "isolate"))
	s := NewStore(Source{Dir: dir}, state, nil)
	if got := active(s.Reload()); got != "alpha=isolate" {
		t.Fatalf("active = %q", got)
	}
	write(t, dir, "a.toml", ruleset("alpha", "isolate")+"bogus = 1\n")
	snap := s.Reload()
	if got := active(snap); got != "alpha=isolate" {
		t.Fatalf("after a bad edit active = %q, want the last good alpha=isolate", got)
	}
	fs := fileStatus(t, snap, "a.toml")
	if fs.State != StateError || !fs.LastGood || fs.Name != "alpha" || len(fs.Problems) != 1 || fs.Problems[0].Line != 5 {
		t.Fatalf("status = %+v", fs)
	}
	// A podguard restart with the file still bad: the saved copy enforces.
	s2 := NewStore(Source{Dir: dir}, state, nil)
	if got := active(s2.Reload()); got != "alpha=isolate" {
		t.Fatalf("after restart active = %q, want the saved last good alpha=isolate", got)
	}
	write(t, dir, "a.toml", ruleset("alpha", "terminate"))
	if got := active(s2.Reload()); got != "alpha=terminate" {
		t.Fatalf("after a good edit active = %q", got)
	}
}

// TestStoreIgnoresPlantedLastGood: a last-good copy podguard did not
// write (planted in the state directory, to be enforced once the real
// file breaks) is ignored: a restart with the file broken enforces
// nothing from it.
func TestStoreIgnoresPlantedLastGood(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	write(t, dir, "a.toml", ruleset("alpha", "terminate"))
	s := NewStore(Source{Dir: dir}, state, nil)
	if got := active(s.Reload()); got != "alpha=terminate" {
		t.Fatalf("active = %q", got)
	}
	// The attacker weakens the saved copy and breaks the file.
	write(t, filepath.Join(state, "rulesets", "lastgood"), "a.toml", ruleset("alpha", "log"))
	write(t, dir, "a.toml", "broken = \n")
	s2 := NewStore(Source{Dir: dir}, state, nil)
	snap := s2.Reload()
	if got := active(snap); got != "" {
		t.Fatalf("after restart active = %q, want the planted copy ignored", got)
	}
	if fs := fileStatus(t, snap, "a.toml"); fs.LastGood {
		t.Errorf("status claims a last good version: %+v", fs)
	}
}

func TestStoreRefusesRename(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", ruleset("alpha", "log"))
	s := NewStore(Source{Dir: dir}, t.TempDir(), nil)
	s.Reload()
	write(t, dir, "a.toml", ruleset("beta", "terminate"))
	snap := s.Reload()
	if got := active(snap); got != "alpha=log" {
		t.Fatalf("active = %q, want alpha=log to stay", got)
	}
	fs := fileStatus(t, snap, "a.toml")
	if !strings.Contains(fs.Problems.Error(), `ruleset name changed from "alpha" to "beta"`) {
		t.Fatalf("problems = %v", fs.Problems)
	}
	// Removing the file ends the ruleset; a new file may use any name.
	os.Remove(filepath.Join(dir, "a.toml"))
	if got := active(s.Reload()); got != "" {
		t.Fatalf("after removal active = %q", got)
	}
	write(t, dir, "a.toml", ruleset("beta", "terminate"))
	if got := active(s.Reload()); got != "beta=terminate" {
		t.Fatalf("recreated file: active = %q", got)
	}
}

func TestStoreDuplicateNames(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", ruleset("same", "log"))
	write(t, dir, "b.toml", ruleset("same", "terminate"))
	snap := NewStore(Source{Dir: dir}, "", nil).Reload()
	if got := active(snap); got != "same=log" {
		t.Fatalf("active = %q", got)
	}
	want := dir + "/b.toml:1: ruleset name \"same\" is already used by " + dir + "/a.toml; give this ruleset a different name"
	if got := fileStatus(t, snap, "b.toml").Problems.Error(); got != want {
		t.Fatalf("problem = %q\nwant %q", got, want)
	}
}

func TestStorePolicy(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", ruleset("alpha", "log"))
	write(t, dir, "b.toml", ruleset("beta", "isolate"))
	s := NewStore(Source{Dir: dir}, "", nil)
	s.SetPolicy([]string{"beta", "gamma"})
	snap := s.Reload()
	if got := active(snap); got != "beta=isolate" {
		t.Fatalf("active = %q", got)
	}
	if fileStatus(t, snap, "a.toml").InPolicy || strings.Join(snap.MissingPolicy, ",") != "gamma" {
		t.Fatalf("files = %+v missing = %v", snap.Files, snap.MissingPolicy)
	}
}

func TestStoreEmbeddedFallbackAndVanishingDirectory(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "rules.d")
	emb := fstest.MapFS{"default.toml": {Data: []byte(ruleset("default", "log"))}}
	s := NewStore(Source{Dir: dir, Embedded: emb}, "", nil)
	snap := s.Reload()
	if snap.Source != "embedded" || active(snap) != "default=log" {
		t.Fatalf("source %q active %q", snap.Source, active(snap))
	}
	os.Mkdir(dir, 0o755)
	write(t, dir, "a.toml", ruleset("alpha", "terminate"))
	if snap = s.Reload(); snap.Source != dir || active(snap) != "alpha=terminate" {
		t.Fatalf("source %q active %q", snap.Source, active(snap))
	}
	// The directory disappears (a bad deploy): rules in force stay.
	os.RemoveAll(dir)
	snap = s.Reload()
	if active(snap) != "alpha=terminate" || !strings.Contains(snap.SourceNote, "does not exist; keeping the rules in force") {
		t.Fatalf("active %q note %q", active(snap), snap.SourceNote)
	}
}

func TestStoreRefusesWritableFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", ruleset("alpha", "log"))
	os.Chmod(filepath.Join(dir, "a.toml"), 0o666)
	snap := NewStore(Source{Dir: dir}, "", nil).Reload()
	got := fileStatus(t, snap, "a.toml").Problems.Error()
	if !strings.Contains(got, "writable by group or others (mode 0666)") || active(snap) != "" {
		t.Fatalf("problem %q active %q", got, active(snap))
	}
}

func TestStoreKeepsEmbeddedUntilDirectoryIsValid(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rules.d")
	emb := fstest.MapFS{"default.toml": {Data: []byte(ruleset("default", "log"))}}
	s := NewStore(Source{Dir: dir, Embedded: emb}, t.TempDir(), nil)
	s.Reload()
	os.Mkdir(dir, 0o755)
	write(t, dir, "default.toml", ruleset("mine", "bogus"))
	snap := s.Reload()
	if active(snap) != "default=log" || !strings.Contains(snap.SourceNote, "built-in rulesets stay in force") {
		t.Fatalf("a broken first file must not drop the built-in rules: active %q note %q", active(snap), snap.SourceNote)
	}
	write(t, dir, "default.toml", ruleset("mine", "terminate"))
	if snap = s.Reload(); active(snap) != "mine=terminate" || snap.Source != dir {
		t.Fatalf("active %q source %q", active(snap), snap.Source)
	}
}
