package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/config"
	"github.com/podguard/podguard/daemon/events"
)

func eventsFlags(fl *flag.FlagSet) {
	jsonFlag(fl)
	fl.String("pod", "", "only this pod (name or namespace/name)")
	fl.String("namespace", "", "only pods in this namespace")
	fl.String("rule", "", "only this rule id")
	fl.String("technique", "", "only this ATT&CK technique (T1611 also matches its sub-techniques)")
	fl.String("action", "", "only this mitigation: log, isolate or terminate")
	fl.Duration("since", 0, "only events newer than this, e.g. 10m")
	fl.Bool("follow", false, "keep printing new events")
	fl.String("file", "", "read this events file instead of asking the daemon")
}

// cmdEvents prints the events that pass the filter flags: the running
// daemon's, else those of the events file.
func cmdEvents(ctx context.Context, c *call) error {
	str := func(n string) string { return c.fl.Lookup(n).Value.String() }
	f := eventFilter{Pod: str("pod"), Namespace: str("namespace"), Rule: str("rule"), Technique: str("technique"), Action: str("action")}
	if since := c.fl.Lookup("since").Value.(flag.Getter).Get().(time.Duration); since > 0 {
		f.Since = time.Now().Add(-since)
	}
	switch f.Action {
	case "", "log", "isolate", "terminate":
	default:
		return fmt.Errorf("--action %q: use log, isolate or terminate", f.Action)
	}
	follow := str("follow") == "true"
	out := &eventPrinter{w: c.Stdout, json: c.asJSON(), tw: c.table()}
	defer out.flush()
	emit := func(ev events.Event) bool {
		if f.match(ev) {
			out.print(ev)
			if follow {
				out.flush()
			}
		}
		return true
	}
	cfg, cfgErr := config.LoadForClient(c.config)
	if cfg == nil {
		return cfgErr
	}
	file := str("file")
	if file == "" {
		err := api.NewClient(cfg.API.Socket).Events(ctx, follow, emit)
		if err == nil || !errors.Is(err, api.ErrNotRunning) {
			return err
		}
		file = cfg.Events.File
		fmt.Fprintf(c.Stderr, "podguard is not running; reading %s\n", file)
	}
	return readEventsFile(ctx, c.Stderr, file, follow, emit)
}

// readEventsFile passes the events of a JSON lines file to fn, then with
// follow waits for more lines. Lines that are not events are reported on
// stderr and skipped.
func readEventsFile(ctx context.Context, stderr io.Writer, path string, follow bool, fn func(events.Event) bool) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	defer fh.Close()
	r := bufio.NewReader(fh)
	lineNo := 0
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			lineNo++
			var ev events.Event
			if jerr := json.Unmarshal(line, &ev); jerr != nil {
				fmt.Fprintf(stderr, "%s:%d: not an event: %v\n", path, lineNo, jerr)
			} else {
				fn(ev)
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
		if len(line) > 0 { // a partial line: read it again whole
			fh.Seek(-int64(len(line)), io.SeekCurrent)
			r.Reset(fh)
		}
	}
}

// eventPrinter writes events as a table (header before the first) or as
// JSON lines.
type eventPrinter struct {
	w    io.Writer
	json bool
	tw   *tabwriter.Writer
	n    int
}

func (p *eventPrinter) print(ev events.Event) {
	if p.json {
		b, _ := json.Marshal(ev)
		p.w.Write(append(b, '\n'))
		return
	}
	if p.n == 0 {
		fmt.Fprintln(p.tw, "TIME\tPOD\tRULE\tTECHNIQUE\tMITIGATION\tPROCESS")
	}
	p.n++
	mit := ev.Mitigation.Action + " (" + ev.Mitigation.Result + ")"
	if ev.Mitigation.Error != "" {
		mit += ": " + ev.Mitigation.Error
	}
	proc := strings.Join(ev.Process.Args, " ")
	if proc == "" {
		proc = ev.Process.Exe
	}
	if ev.Process.KilledInKernel {
		proc += " [killed in kernel]"
	}
	if ev.Count > 1 {
		proc += fmt.Sprintf(" [x%d more]", ev.Count)
	}
	fmt.Fprintf(p.tw, "%s\t%s/%s\t%s\t%s\t%s\t%s\n", ev.Time.Local().Format("15:04:05.000"), ev.Pod.Namespace, ev.Pod.Name, ev.Rule.ID, ev.Rule.Technique, mit, trim(proc, 60))
}

func (p *eventPrinter) flush() { p.tw.Flush() }

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
