package isolate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/podguard/podguard/daemon/trusted"
)

// stateFile is the name of the state file inside the state directory.
const stateFile = "isolated.json"

type stateDoc struct {
	Version int      `json:"version"`
	Pods    []Record `json:"pods"`
}

// maxStateSize bounds the state file (a record is a few hundred bytes).
const maxStateSize = 16 << 20

// signer signs and checks records (trusted.Key in production).
type signer interface {
	Sign(data []byte) string
	Verify(data []byte, mac string) bool
}

// recordMAC is the MAC of r's content, its MAC field left out.
func recordMAC(key signer, r Record) string {
	r.MAC = ""
	b, _ := json.Marshal(r)
	return key.Sign(b)
}

// loadState reads the records in dir; a missing file means none. Records
// whose MAC does not verify under key were not written by podguard (or
// by one with another key): they are returned apart, never acted on.
func loadState(dir string, key signer) (recs map[string]Record, rejected []Record, err error) {
	recs = make(map[string]Record)
	b, err := trusted.ReadFile(filepath.Join(dir, stateFile), maxStateSize)
	if errors.Is(err, fs.ErrNotExist) {
		return recs, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read isolation state: %w", err)
	}
	var doc stateDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("parse isolation state %s: %w", filepath.Join(dir, stateFile), err)
	}
	for _, r := range doc.Pods {
		switch {
		case r.PodUID == "":
		case !macOK(key, r):
			rejected = append(rejected, r)
		default:
			recs[r.PodUID] = r
		}
	}
	return recs, rejected, nil
}

// macOK reports whether r carries the MAC of its content under key.
func macOK(key signer, r Record) bool {
	mac := r.MAC
	r.MAC = ""
	b, _ := json.Marshal(r)
	return mac != "" && key.Verify(b, mac)
}

// saveState writes the records atomically: temp file, fsync, rename, fsync dir.
func saveState(dir string, recs map[string]Record, key signer) error {
	doc := stateDoc{Version: 2, Pods: sortedRecords(recs)}
	for i := range doc.Pods {
		doc.Pods[i].MAC = recordMAC(key, doc.Pods[i])
	}
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
