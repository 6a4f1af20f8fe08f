package rulesets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/podguard/podguard/daemon/tomlfile"
)

// maxFileSize bounds a ruleset file; real ones are a few kilobytes.
const maxFileSize = 1 << 20

// entry is one *.toml file of a rules source, read or failed.
type entry struct {
	path string
	data []byte
	prob *tomlfile.Problem
}

// readDir lists dir's *.toml files in lexical order. Hidden files (editor
// swap files, ConfigMap bookkeeping) are skipped; symlinks are followed,
// as Kubernetes ConfigMap volumes are made of them.
func readDir(dir string) ([]entry, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	if prob := checkTrusted(dir, true); prob != "" {
		return nil, errors.New(prob)
	}
	var out []entry
	for _, de := range des {
		name := de.Name()
		if !strings.HasSuffix(name, ".toml") || strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		out = append(out, readFile(p))
	}
	return out, nil
}

func readFile(p string) entry {
	fail := func(format string, args ...any) entry {
		return entry{path: p, prob: &tomlfile.Problem{File: p, Msg: fmt.Sprintf(format, args...)}}
	}
	fi, err := os.Stat(p)
	switch {
	case err != nil && errors.Is(err, fs.ErrNotExist):
		return fail("is a symlink to a file that does not exist; fix or remove the link")
	case err != nil:
		return fail("cannot read: %v", err)
	case fi.IsDir():
		return fail("is a directory, not a ruleset file; rename it so it does not end in .toml")
	case !fi.Mode().IsRegular():
		return fail("is not a regular file; rulesets must be plain files")
	case fi.Size() > maxFileSize:
		return fail("is %d bytes, larger than the %d-byte limit for a ruleset; split it into several files", fi.Size(), maxFileSize)
	}
	if prob := checkTrusted(p, false); prob != "" {
		return fail("%s", prob)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return fail("cannot read: %v; make it readable by root", err)
	}
	return entry{path: p, data: data}
}

// checkTrusted refuses files and directories that someone other than the
// daemon's user (or root) owns or can write: whoever can write a rules file
// can switch protection off.
func checkTrusted(p string, dir bool) string {
	fi, err := os.Stat(p)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	what := "file"
	if dir {
		what = "directory"
	}
	if uid := uint32(os.Geteuid()); st.Uid != 0 && st.Uid != uid {
		return fmt.Sprintf("%s is owned by uid %d, not root; anyone owning it can turn protection off: chown root %s", what, st.Uid, p)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Sprintf("%s is writable by group or others (mode %04o); anyone who can write it can turn protection off: chmod go-w %s", what, fi.Mode().Perm(), p)
	}
	return ""
}

// readFS lists the *.toml files at the top of an embedded file system.
func readFS(fsys fs.FS, label string) ([]entry, error) {
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]entry, 0, len(names))
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		e := entry{path: path.Join(label, n), data: data}
		if err != nil {
			e.prob = &tomlfile.Problem{File: e.path, Msg: err.Error()}
		}
		out = append(out, e)
	}
	return out, nil
}
