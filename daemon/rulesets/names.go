package rulesets

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
)

// nameRegistry remembers, under the state directory, which file holds which
// ruleset name and a copy of the file's last good version, so that both
// survive a restart of the daemon.
type nameRegistry struct {
	dir   string // "" when there is no usable state directory
	names map[string]string
	dirty bool
	log   *slog.Logger
}

func openNames(stateDir string, log *slog.Logger) *nameRegistry {
	r := &nameRegistry{names: map[string]string{}, log: log}
	if stateDir == "" {
		return r
	}
	dir := filepath.Join(stateDir, "rulesets")
	if err := os.MkdirAll(filepath.Join(dir, "lastgood"), 0o700); err != nil {
		log.Warn("ruleset names will not survive a restart", "state_dir", stateDir, "err", err)
		return r
	}
	r.dir = dir
	if data, err := os.ReadFile(filepath.Join(dir, "names.json")); err == nil {
		if err := json.Unmarshal(data, &r.names); err != nil {
			log.Warn("ignoring unreadable ruleset name registry", "file", filepath.Join(dir, "names.json"), "err", err)
			r.names = map[string]string{}
		}
	}
	return r
}

func (r *nameRegistry) name(base string) string { return r.names[base] }

// remember records base's name and its good contents.
func (r *nameRegistry) remember(base, name string, data []byte) {
	if r.names[base] != name {
		r.names[base] = name
		r.dirty = true
	}
	if r.dir != "" {
		p := filepath.Join(r.dir, "lastgood", base)
		if old, err := os.ReadFile(p); err != nil || string(old) != string(data) {
			if err := writeAtomic(p, data); err != nil {
				r.log.Warn("cannot keep last good ruleset copy", "file", p, "err", err)
			}
		}
	}
}

// forget drops a file that is gone from the rules directory.
func (r *nameRegistry) forget(base string) {
	if _, ok := r.names[base]; ok {
		delete(r.names, base)
		r.dirty = true
	}
	if r.dir != "" {
		os.Remove(filepath.Join(r.dir, "lastgood", base))
	}
}

// lastGood returns the saved last good version of base, if any.
func (r *nameRegistry) lastGood(base, path string) *Ruleset {
	if r.dir == "" || r.names[base] == "" {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(r.dir, "lastgood", base))
	if err != nil {
		return nil
	}
	rs, probs := Parse(path, data)
	if len(probs) > 0 || rs.Name != r.names[base] {
		return nil
	}
	return rs
}

func (r *nameRegistry) save() {
	if !r.dirty || r.dir == "" {
		return
	}
	data, _ := json.MarshalIndent(r.names, "", "  ")
	if err := writeAtomic(filepath.Join(r.dir, "names.json"), data); err != nil {
		r.log.Warn("cannot save ruleset name registry", "err", err)
		return
	}
	r.dirty = false
}

// writeAtomic writes data to p through a temporary file and a rename.
func writeAtomic(p string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
