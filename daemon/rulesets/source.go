package rulesets

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/daemon/tomlfile"
	"github.com/podguard/podguard/daemon/trusted"
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
// as Kubernetes ConfigMap volumes are made of them. The directory is
// opened once and checked on that descriptor; its files are opened
// relative to it (see readFile).
func readDir(dir string) ([]entry, error) {
	d, err := trusted.OpenDir(dir)
	if err != nil {
		var te *trusted.Error
		if errors.As(err, &te) {
			return nil, errors.New(te.Msg)
		}
		return nil, err
	}
	defer d.Close()
	des, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	sort.Slice(des, func(i, j int) bool { return des[i].Name() < des[j].Name() })
	var out []entry
	for _, de := range des {
		name := de.Name()
		if !strings.HasSuffix(name, ".toml") || strings.HasPrefix(name, ".") {
			continue
		}
		out = append(out, readFileAt(int(d.Fd()), name, filepath.Join(dir, name)))
	}
	return out, nil
}

func readFile(p string) entry { return readFileAt(unix.AT_FDCWD, p, p) }

// readFileAt reads the ruleset name (relative to the directory open as
// dirfd; p is its path for messages) through one descriptor, checked on
// that descriptor: what is validated is what was checked, even if the
// file is swapped meanwhile (see package trusted).
func readFileAt(dirfd int, name, p string) entry {
	fail := func(format string, args ...any) entry {
		return entry{path: p, prob: &tomlfile.Problem{File: p, Msg: fmt.Sprintf(format, args...)}}
	}
	data, err := trusted.ReadFileAt(dirfd, name, maxFileSize)
	var te *trusted.Error
	switch {
	case err == nil:
		return entry{path: p, data: data}
	case errors.As(err, &te) && te.Kind == trusted.Directory:
		return fail("is a directory, not a ruleset file; rename it so it does not end in .toml")
	case errors.As(err, &te) && te.Kind == trusted.NotRegular:
		return fail("is not a regular file; rulesets must be plain files")
	case errors.As(err, &te) && te.Kind == trusted.TooLarge:
		return fail("%s for a ruleset; split it into several files", te.Msg)
	case errors.As(err, &te):
		return fail("%s", te.Msg)
	default:
		return fail("cannot read: %v", err)
	}
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
