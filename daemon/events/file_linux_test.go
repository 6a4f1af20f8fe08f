package events

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fileRules returns the rule ids in a JSON lines file.
func fileRules(tb testing.TB, path string) string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if i := strings.Index(l, `"id":"`); i >= 0 {
			ids = append(ids, strings.SplitN(l[i+6:], `"`, 2)[0])
		}
	}
	return strings.Join(ids, ",")
}

func aside(tb testing.TB, dir string) []string {
	tb.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "events.jsonl.untrusted-*"))
	return m
}

// TestEventsFilePlantedSymlink: a symlink planted at the events file's
// path (by anyone who could write the directory, e.g. a pod with a
// hostPath on /var/log) is not followed: the file it points to is left
// as it was, the link is moved aside, and events go to a new file.
func TestEventsFilePlantedSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(victim, []byte("root:x:0:\n"), 0o600)
	path := filepath.Join(dir, "events.jsonl")
	os.Symlink(victim, path)
	r := &rotatingFile{path: path, max: 1 << 20, keep: 2, log: quiet}
	defer r.close()
	if err := r.write([]byte(`{"rule":{"id":"a"}}` + "\n")); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "root:x:0:\n" {
		t.Errorf("the symlink was followed: %s now %q", victim, data)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("events file %v, %v; want a regular file", fi, err)
	}
	if got := fileRules(t, path); got != "a" {
		t.Errorf("events file has %q", got)
	}
	if m := aside(t, dir); len(m) != 1 {
		t.Errorf("planted link kept aside as evidence: %v", m)
	} else if target, _ := os.Readlink(m[0]); target != victim {
		t.Errorf("moved aside %s -> %s", m[0], target)
	}
}

// TestEventsFileReplacedWhileOpen: an events file deleted while podguard
// writes it is created anew (events never go to a file no one can read),
// and a directory replaced by a symlink is refused, not written through.
func TestEventsFileReplacedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	r := &rotatingFile{path: path, max: 1 << 20, keep: 2, log: quiet}
	defer r.close()
	r.write([]byte(`{"rule":{"id":"a"}}` + "\n"))
	// The evidence file is deleted (a pod with a hostPath covering up).
	os.Remove(path)
	for i := 0; i < 256; i++ { // the writer checks every 256 writes
		r.write([]byte(`{"rule":{"id":"b"}}` + "\n"))
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("a deleted events file was not created anew: %v", err)
	}
	// The directory is deleted and a symlink to elsewhere put in its place.
	elsewhere := t.TempDir()
	os.RemoveAll(dir)
	os.Symlink(elsewhere, dir)
	var err error
	for i := 0; i < 256 && err == nil; i++ {
		err = r.write([]byte(`{"rule":{"id":"c"}}` + "\n"))
	}
	if err == nil || !strings.Contains(err.Error(), "is a symlink or not a directory") {
		t.Errorf("writing into a directory replaced by a symlink: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(elsewhere, "*")); len(m) != 0 {
		t.Errorf("events written through the planted directory symlink: %v", m)
	}
}

func TestEventsFileHardLink(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "passwd")
	os.WriteFile(other, []byte("x\n"), 0o600)
	path := filepath.Join(dir, "events.jsonl")
	if err := os.Link(other, path); err != nil {
		t.Fatal(err)
	}
	r := &rotatingFile{path: path, max: 1 << 20, keep: 2, log: quiet}
	defer r.close()
	r.write([]byte(`{"rule":{"id":"a"}}` + "\n"))
	if data, _ := os.ReadFile(other); string(data) != "x\n" {
		t.Errorf("wrote through a hard link: %q", data)
	}
	if got := fileRules(t, path); got != "a" {
		t.Errorf("events file has %q", got)
	}
}

// TestEventsFileMaxAge: rotated files last written longer ago than the
// retention are deleted; newer ones and the current file stay.
func TestEventsFileMaxAge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	old := time.Now().Add(-48 * time.Hour)
	for _, n := range []string{".1", ".2"} {
		os.WriteFile(path+n, []byte("{}\n"), 0o600)
	}
	os.Chtimes(path+".2", old, old)
	r := &rotatingFile{path: path, max: 1 << 20, keep: 3, maxAge: 24 * time.Hour, log: quiet}
	defer r.close()
	r.write([]byte(`{"rule":{"id":"a"}}` + "\n"))
	if _, err := os.Stat(path + ".2"); err == nil {
		t.Error("a rotated file older than max_age was kept")
	}
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Errorf("a recent rotated file was deleted: %v", err)
	}
}
