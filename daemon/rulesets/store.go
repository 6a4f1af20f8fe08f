package rulesets

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podguard/podguard/daemon/tomlfile"
)

// State of one ruleset file.
const (
	StateOK    = "ok"
	StateError = "error"
)

// FileStatus is what `podguard status` shows for one file.
type FileStatus struct {
	File     string            `json:"file"`
	Name     string            `json:"name,omitempty"`
	State    string            `json:"state"`
	Problems tomlfile.Problems `json:"problems,omitempty"`
	// LastGood is true when the file is in error and its last good version
	// (named Name) is still enforcing.
	LastGood bool `json:"last_good_active,omitempty"`
	// InPolicy is false when [policy] rulesets leaves this ruleset out.
	InPolicy bool      `json:"in_policy"`
	Since    time.Time `json:"since"`
}

// Snapshot is an immutable view of the rules in force.
type Snapshot struct {
	Generation uint64
	Source     string // the rules directory, or "embedded"
	SourceNote string // why the source was chosen, or a directory-level error
	// Rulesets are the rulesets in force (after [policy]), by file name.
	Rulesets []*Ruleset
	Files    []FileStatus
	// MissingPolicy lists [policy] names that no file provides.
	MissingPolicy []string
}

// Source says where rulesets come from.
type Source struct {
	Dir      string // the rules directory on disk
	Embedded fs.FS  // used while Dir does not exist (may be nil)
}

// Store keeps the rulesets in force and the last good version of each file.
type Store struct {
	mu      sync.Mutex
	src     Source
	policy  []string
	names   *nameRegistry
	files   map[string]*fileState // by path
	source  string                // the Source of the snapshot in force
	gen     uint64
	current atomic.Pointer[Snapshot]
	log     *slog.Logger
}

type fileState struct {
	status FileStatus
	good   *Ruleset
}

// NewStore makes a store that remembers names and last good versions under
// stateDir (created if missing; a store without it works but forgets on
// restart).
func NewStore(src Source, stateDir string, log *slog.Logger) *Store {
	if log == nil {
		log = slog.Default()
	}
	return &Store{src: src, names: openNames(stateDir, log), files: map[string]*fileState{}, log: log}
}

// Current returns the snapshot in force (nil before the first Reload).
func (s *Store) Current() *Snapshot { return s.current.Load() }

// SetPolicy sets the [policy] rulesets list; it applies at the next Reload.
func (s *Store) SetPolicy(names []string) {
	s.mu.Lock()
	s.policy = append([]string(nil), names...)
	s.mu.Unlock()
}

// SetSource changes where rulesets come from; it applies at the next Reload.
func (s *Store) SetSource(src Source) {
	s.mu.Lock()
	s.src = src
	s.mu.Unlock()
}

// Reload reads the source again, builds a complete new snapshot and swaps it
// in. Files that fail keep their last good version in force.
func (s *Store) Reload() *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, source, note := s.read()
	if entries == nil && note != "" && len(s.files) > 0 {
		// The directory vanished or became untrusted: keep everything as is.
		old := *s.current.Load()
		old.SourceNote = note
		s.current.Store(&old)
		return &old
	}
	embedded := source == "embedded"
	seen := map[string]bool{}
	claimed := map[string]string{} // ruleset name -> file
	anyGood := false
	for _, e := range entries {
		seen[e.path] = true
		st := s.files[e.path]
		if st == nil {
			st = &fileState{}
			if !embedded {
				st.good = s.names.lastGood(filepath.Base(e.path), e.path)
			}
			s.files[e.path] = st
		}
		s.apply(st, e, claimed, !embedded)
		anyGood = anyGood || st.status.State == StateOK || st.status.LastGood
	}
	for p, st := range s.files {
		if seen[p] {
			continue
		}
		if s.source == "embedded" && !embedded && !anyGood {
			// The rules directory just appeared but nothing in it is valid
			// yet: the built-in rulesets keep enforcing meanwhile.
			seen[p] = true
			note = fmt.Sprintf("no valid ruleset in %s yet; the built-in rulesets stay in force until there is one", s.src.Dir)
			source = "embedded"
			continue
		}
		delete(s.files, p)
		if s.source != "embedded" {
			s.names.forget(filepath.Base(p))
		}
		s.log.Info("ruleset file removed", "file", st.status.File, "ruleset", st.status.Name)
	}
	s.source = source
	s.names.save()
	snap := s.build(source, note)
	s.current.Store(snap)
	return snap
}

// apply parses one entry into its file state, keeping the last good
// version when the new one is rejected.
func (s *Store) apply(st *fileState, e entry, claimed map[string]string, register bool) {
	base := filepath.Base(e.path)
	var probs tomlfile.Problems
	var rs *Ruleset
	if e.prob != nil {
		probs = tomlfile.Problems{*e.prob}
	} else {
		rs, probs = Parse(e.path, e.data)
	}
	if rs != nil {
		if other, ok := claimed[rs.Name]; ok {
			probs = append(probs, tomlfile.Problem{File: e.path, Line: 1, Msg: fmt.Sprintf("ruleset name %q is already used by %s; give this ruleset a different name", rs.Name, other)})
		} else if old := s.names.name(base); register && old != "" && old != rs.Name {
			probs = append(probs, tomlfile.Problem{File: e.path, Line: 1, Msg: fmt.Sprintf("ruleset name changed from %q to %q; a ruleset's name cannot change once created: put %q in a new file (the ruleset %q stays in force until this file is removed)", old, rs.Name, rs.Name, old)})
		}
	}
	prev := st.status
	now := time.Now()
	if len(probs) == 0 {
		st.good = rs
		st.status = FileStatus{File: e.path, Name: rs.Name, State: StateOK, Since: now}
		if register {
			s.names.remember(base, rs.Name, e.data)
		}
		if prev.State != StateOK {
			s.log.Info("ruleset loaded", "file", e.path, "ruleset", rs.Name, "rules", len(rs.Rules))
		}
	} else {
		st.status = FileStatus{File: e.path, State: StateError, Problems: probs, Since: now}
		if st.good != nil {
			if _, taken := claimed[st.good.Name]; !taken {
				st.status.Name, st.status.LastGood = st.good.Name, true
			}
		}
		if prev.State == StateError && fmt.Sprint(prev.Problems) == fmt.Sprint(probs) {
			st.status.Since = prev.Since
		} else {
			s.log.Warn("ruleset rejected", "file", e.path, "problems", probs.Error(), "last_good_active", st.status.LastGood)
		}
	}
	if st.status.Name != "" {
		claimed[st.status.Name] = e.path
	}
}

func (s *Store) read() ([]entry, string, string) {
	entries, err := readDir(s.src.Dir)
	switch {
	case err == nil:
		if entries == nil {
			entries = []entry{}
		}
		return entries, s.src.Dir, ""
	case os.IsNotExist(err) && s.src.Embedded != nil && len(s.files) == 0:
		e, _ := readFS(s.src.Embedded, "embedded")
		return e, "embedded", fmt.Sprintf("rules directory %s does not exist; using the rulesets built into podguard", s.src.Dir)
	case os.IsNotExist(err):
		return nil, s.src.Dir, fmt.Sprintf("rules directory %s does not exist; keeping the rules in force", s.src.Dir)
	default:
		return nil, s.src.Dir, fmt.Sprintf("rules directory %s: %v; keeping the rules in force", s.src.Dir, err)
	}
}

func (s *Store) build(source, note string) *Snapshot {
	s.gen++
	snap := &Snapshot{Generation: s.gen, Source: source, SourceNote: note}
	inPolicy := map[string]bool{}
	for _, n := range s.policy {
		inPolicy[n] = false
	}
	paths := make([]string, 0, len(s.files))
	for p := range s.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		st := s.files[p]
		fs := st.status
		active := fs.State == StateOK || fs.LastGood
		if _, listed := inPolicy[fs.Name]; len(s.policy) == 0 || listed {
			fs.InPolicy = true
			if active {
				inPolicy[fs.Name] = true
				snap.Rulesets = append(snap.Rulesets, st.good)
			}
		}
		snap.Files = append(snap.Files, fs)
	}
	for _, n := range s.policy {
		if !inPolicy[n] {
			snap.MissingPolicy = append(snap.MissingPolicy, n)
		}
	}
	return snap
}
