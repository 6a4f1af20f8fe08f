package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"

	"github.com/podguard/podguard/daemon/events"
)

// eventsFile reads a JSON lines events file written by the daemon: its
// rotated files first (PATH.N … PATH.1, oldest first), then PATH; with
// follow it keeps reading PATH, and when the daemon rotates it (PATH
// becomes PATH.1 and a new PATH starts), it finishes the old file and goes
// on with the new one. Lines that are not events are reported on stderr
// with their file and line, and skipped.
type eventsFile struct {
	path   string
	stderr io.Writer
	fn     func(events.Event)
	poll   time.Duration // how often a followed file is checked for more

	fh      *os.File // PATH, open after read
	r       *bufio.Reader
	lineNo  int
	partial int // bytes of a last line not yet whole
}

// rotated returns the rotated files that exist, oldest first.
func (e *eventsFile) rotated() []string {
	var names []string
	for n := 1; ; n++ {
		name := e.path + "." + strconv.Itoa(n)
		if _, err := os.Lstat(name); err != nil {
			break
		}
		names = append([]string{name}, names...)
	}
	return names
}

// read passes every event of the rotated files and PATH to fn. PATH
// stays open for follow.
func (e *eventsFile) read() error {
	if e.path == "-" {
		_, err := e.lines(bufio.NewReader(os.Stdin), "standard input", new(int), true)
		return err
	}
	for _, name := range e.rotated() {
		fh, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // rotated away meanwhile
		}
		if err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		_, err = e.lines(bufio.NewReader(fh), name, new(int), false)
		fh.Close()
		if err != nil {
			return err
		}
	}
	fh, err := os.Open(e.path)
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	e.fh, e.r, e.lineNo = fh, bufio.NewReader(fh), 0
	e.partial, err = e.lines(e.r, e.path, &e.lineNo, false)
	return err
}

// follow passes the events appended to PATH after read, across
// rotations, until ctx ends. It closes the file.
func (e *eventsFile) follow(ctx context.Context) error {
	if e.fh == nil {
		return nil // standard input: read to its end already
	}
	defer func() { e.fh.Close() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(e.poll):
		}
		if e.partial > 0 { // read the partial line again once it is whole
			e.fh.Seek(-int64(e.partial), io.SeekCurrent)
			e.r.Reset(e.fh)
		}
		var err error
		if e.partial, err = e.lines(e.r, e.path, &e.lineNo, false); err != nil {
			return err
		}
		if next, ok := e.replaced(); ok {
			// What the daemon wrote to the old file before it rotated
			// it was read above; go on with the new one.
			e.fh.Close()
			e.fh, e.lineNo, e.partial = next, 0, 0
			e.r.Reset(next)
			if e.partial, err = e.lines(e.r, e.path, &e.lineNo, false); err != nil {
				return err
			}
		}
	}
}

// close releases PATH when follow is not called.
func (e *eventsFile) close() {
	if e.fh != nil {
		e.fh.Close()
	}
}

// replaced returns PATH opened anew when it is no longer the file fh
// reads (rotated, or deleted and recreated).
func (e *eventsFile) replaced() (*os.File, bool) {
	cur, err := e.fh.Stat()
	if err != nil {
		return nil, false
	}
	now, err := os.Stat(e.path)
	if err != nil || os.SameFile(cur, now) {
		return nil, false
	}
	next, err := os.Open(e.path)
	if err != nil {
		return nil, false
	}
	return next, true
}

// lines passes the whole lines r has to fn and returns the length of a
// last line without its newline (0 when the input ends on a newline);
// with final, that last line counts too (the input is complete: a pipe).
func (e *eventsFile) lines(r *bufio.Reader, name string, lineNo *int, final bool) (int, error) {
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && (line[len(line)-1] == '\n' || final) {
			*lineNo++
			var ev events.Event
			if jerr := json.Unmarshal(line, &ev); jerr != nil {
				fmt.Fprintf(e.stderr, "%s:%d: not an event: %v\n", name, *lineNo, jerr)
			} else {
				e.fn(ev)
			}
			if err == nil {
				continue
			}
			line = nil // consumed
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("read events: %s: %w", name, err)
		}
		return len(line), nil
	}
}
