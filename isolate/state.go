package isolate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// stateFile is the name of the state file inside the state directory.
const stateFile = "isolated.json"

type stateDoc struct {
	Version int      `json:"version"`
	Pods    []Record `json:"pods"`
}

// loadState reads the records in dir; a missing file means none.
func loadState(dir string) (map[string]Record, error) {
	recs := make(map[string]Record)
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return recs, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read isolation state: %w", err)
	}
	var doc stateDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse isolation state %s: %w", filepath.Join(dir, stateFile), err)
	}
	for _, r := range doc.Pods {
		if r.PodUID != "" {
			recs[r.PodUID] = r
		}
	}
	return recs, nil
}

// saveState writes the records atomically: temp file, fsync, rename, fsync dir.
func saveState(dir string, recs map[string]Record) error {
	doc := stateDoc{Version: 1, Pods: sortedRecords(recs)}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode isolation state: %w", err)
	}
	f, err := os.CreateTemp(dir, stateFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("write isolation state: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write isolation state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync isolation state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write isolation state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("replace isolation state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync state dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync state dir: %w", err)
	}
	return nil
}

func sortedRecords(recs map[string]Record) []Record {
	out := make([]Record, 0, len(recs))
	for _, r := range recs {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PodUID < out[j].PodUID })
	return out
}
