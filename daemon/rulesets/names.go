package rulesets

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/podguard/podguard/daemon/trusted"
)

// nameRegistry remembers, under the state directory, which file holds which
// ruleset name and a copy of the file's last good version, so that both
// survive a restart of the daemon.
type nameRegistry struct {
	dir   string // "" when there is no usable state directory
	key   *trusted.Key
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
	key, err := trusted.StateKey(stateDir)
	if err == nil {
		err = os.MkdirAll(filepath.Join(dir, "lastgood"), 0o700)
	}
	if err != nil {
		log.Warn("ruleset names will not survive a restart", "state_dir", stateDir, "err", err)
		return r
	}
	r.dir, r.key = dir, key
	if data, ok := r.read("names.json"); ok {
		if err := json.Unmarshal(data, &r.names); err != nil {
			log.Warn("ignoring unreadable ruleset name registry", "file", filepath.Join(dir, "names.json"), "err", err)
			r.names = map[string]string{}
		}
	}
	return r
}

// read returns the state file rel (under the registry's directory) if its
// MAC, kept beside it in rel.mac, verifies: a copy podguard did not write
// (planted to be enforced when the real file breaks) is reported, ignored.
func (r *nameRegistry) read(rel string) ([]byte, bool) {
	p := filepath.Join(r.dir, rel)
	data, err := trusted.ReadFile(p, maxFileSize)
	if err != nil {
		return nil, false
	}
	mac, err := trusted.ReadFile(p+".mac", 128)
	if err != nil || !r.key.Verify(append([]byte(rel+"\x00"), data...), string(mac)) {
		r.log.Error("ruleset state ignored: its integrity check failed (not written by this node's podguard)", "file", p)
		return nil, false
	}
	return data, true
}

// write stores data as the state file rel with its MAC.
func (r *nameRegistry) write(rel string, data []byte) error {
	p := filepath.Join(r.dir, rel)
	if err := writeAtomic(p+".mac", []byte(r.key.Sign(append([]byte(rel+"\x00"), data...)))); err != nil {
		return err
	}
	return writeAtomic(p, data)
}

func (r *nameRegistry) name(base string) string { return r.names[base] }

// remember records base's name and its good contents.
func (r *nameRegistry) remember(base, name string, data []byte) {
	if r.names[base] != name {
		r.names[base] = name
		r.dirty = true
	}
	if r.dir != "" {
		rel := filepath.Join("lastgood", base)
		if old, ok := r.read(rel); !ok || string(old) != string(data) {
			if err := r.write(rel, data); err != nil {
				r.log.Warn("cannot keep last good ruleset copy", "file", filepath.Join(r.dir, rel), "err", err)
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
		os.Remove(filepath.Join(r.dir, "lastgood", base+".mac"))
	}
}

// lastGood returns the saved last good version of base, if any.
func (r *nameRegistry) lastGood(base, path string) *Ruleset {
	if r.dir == "" || r.names[base] == "" {
		return nil
	}
	data, ok := r.read(filepath.Join("lastgood", base))
	if !ok {
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
	if err := r.write("names.json", data); err != nil {
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
