package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce groups the bursts of events an editor's save makes.
const debounce = 100 * time.Millisecond

type change struct {
	config bool
	reason string
}

// fileChanges turns file system events on the rules directory and the
// config file into debounced reload requests. It follows the parents too,
// so a rules directory that is deleted and created again is picked up,
// and an editor that saves by rename is seen like any other write.
type fileChanges struct {
	fs      *fsnotify.Watcher
	paths   func() (rulesDir, cfgFile string) // what to follow now
	changes chan change
	errors  chan error

	mu    sync.Mutex
	added map[string]bool // directories given to fs
}

// followFiles follows the rules directory and config file that paths
// names, from now until ctx ends or Close.
func followFiles(ctx context.Context, paths func() (rulesDir, cfgFile string)) (*fileChanges, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	f := &fileChanges{fs: fw, paths: paths, changes: make(chan change, 1), errors: make(chan error, 1), added: map[string]bool{}}
	f.sync()
	go f.loop(ctx)
	return f, nil
}

func (f *fileChanges) Close() error { return f.fs.Close() }

// watchedPaths are the rules directory and config file in force, for
// followFiles.
func (d *Daemon) watchedPaths() (rulesDir, cfgFile string) {
	cfg := d.config()
	cfgFile = d.opts.ConfigPath
	if cfgFile == "" {
		cfgFile = cfg.Path
	}
	return filepath.Clean(cfg.RulesDir), cfgFile
}

// dirs are the directories to follow for rulesDir and cfgFile.
func dirs(rulesDir, cfgFile string) []string {
	d := []string{rulesDir, filepath.Dir(rulesDir)}
	if cfgFile != "" {
		d = append(d, filepath.Dir(cfgFile))
	}
	return d
}

// sync follows the directories that exist now; one that is removed stops
// being followed by itself.
func (f *fileChanges) sync() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, dir := range dirs(f.paths()) {
		if f.added[dir] {
			continue
		}
		if err := f.fs.Add(dir); err == nil {
			f.added[dir] = true
		}
	}
}

func (f *fileChanges) loop(ctx context.Context) {
	var timer <-chan time.Time
	pending := change{}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-f.fs.Events:
			if !ok {
				return
			}
			rulesDir, cfgFile := f.paths()
			name := filepath.Clean(ev.Name)
			dir := filepath.Dir(name)
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				f.mu.Lock()
				delete(f.added, name)
				f.mu.Unlock()
			}
			switch {
			case cfgFile != "" && name == filepath.Clean(cfgFile):
				pending.config = true
			case dir == rulesDir || name == rulesDir:
			default:
				continue // a neighbour of the config file or rules directory
			}
			pending.reason = ev.String()
			timer = time.After(debounce)
		case err, ok := <-f.fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				pending.config, pending.reason = true, "event overflow"
				timer = time.After(debounce)
				continue
			}
			select {
			case f.errors <- err:
			default:
			}
		case <-timer:
			timer = nil
			f.sync()
			select {
			case f.changes <- pending:
				pending = change{}
			case <-ctx.Done():
				return
			}
			f.sync() // the reload may have changed rules_dir
		}
	}
}
