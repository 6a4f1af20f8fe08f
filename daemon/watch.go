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

// watcher turns file system events on the rules directory and the config
// file into debounced reload requests. It watches the parents too, so a
// rules directory that is deleted and created again is picked up, and an
// editor that saves by rename is seen like any other write.
type watcher struct {
	fs      *fsnotify.Watcher
	d       *Daemon
	changes chan change
	errors  chan error

	mu      sync.Mutex
	watched map[string]bool
}

func (d *Daemon) watch(ctx context.Context) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{fs: fw, d: d, changes: make(chan change, 1), errors: make(chan error, 1), watched: map[string]bool{}}
	w.sync()
	go w.loop(ctx)
	return w, nil
}

func (w *watcher) Close() error { return w.fs.Close() }

// paths returns what should be watched now.
func (w *watcher) paths() (rulesDir string, dirs []string, cfgFile string) {
	cfg := w.d.config()
	cfgFile = w.d.opts.ConfigPath
	if cfgFile == "" {
		cfgFile = cfg.Path
	}
	rulesDir = filepath.Clean(cfg.RulesDir)
	dirs = []string{rulesDir, filepath.Dir(rulesDir)}
	if cfgFile != "" {
		dirs = append(dirs, filepath.Dir(cfgFile))
	}
	return rulesDir, dirs, cfgFile
}

// sync adds watches for directories that exist now; a watch on a removed
// directory disappears by itself.
func (w *watcher) sync() {
	_, dirs, _ := w.paths()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, dir := range dirs {
		if w.watched[dir] {
			continue
		}
		if err := w.fs.Add(dir); err == nil {
			w.watched[dir] = true
		}
	}
}

func (w *watcher) loop(ctx context.Context) {
	var timer <-chan time.Time
	pending := change{}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			rulesDir, _, cfgFile := w.paths()
			name := filepath.Clean(ev.Name)
			dir := filepath.Dir(name)
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				w.mu.Lock()
				delete(w.watched, name)
				w.mu.Unlock()
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
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				pending.config, pending.reason = true, "event overflow"
				timer = time.After(debounce)
				continue
			}
			select {
			case w.errors <- err:
			default:
			}
		case <-timer:
			timer = nil
			w.sync()
			select {
			case w.changes <- pending:
				pending = change{}
			case <-ctx.Done():
				return
			}
			w.sync() // the reload may have changed rules_dir
		}
	}
}
