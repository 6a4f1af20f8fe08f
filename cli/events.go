package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/config"
	"github.com/podguard/podguard/daemon/events"
)

func eventsFlags(fl *flag.FlagSet) {
	jsonFlag(fl)
	list := func(name, usage string) {
		fl.Var(&listFlag{}, name, usage+" (repeat the flag or separate with commas for several)")
	}
	list("pod", "only this pod (name or namespace/name)")
	list("namespace", "only pods in this namespace")
	list("rule", "only this rule id")
	list("technique", "only this ATT&CK technique (T1611 also matches its sub-techniques)")
	list("action", "only this mitigation: log, isolate or terminate")
	list("node", "only events of this node")
	list("ruleset", "only events of this ruleset")
	fl.Var(&timeFlag{now: time.Now}, "since", "only events at or after this time: a duration before now (10m, 24h) or an RFC 3339 time")
	fl.Var(&timeFlag{now: time.Now}, "until", "only events before this time: a duration before now or an RFC 3339 time")
	fl.Bool("follow", false, "keep printing new events (across the events file's rotation)")
	fl.String("file", "", "read this events file and its rotated files (FILE.1, FILE.2, …) instead; - reads standard input")
}

// cmdEvents prints the events that pass the filter flags. History comes
// from the events file and its rotated files (the daemon keeps only the
// latest events in memory); the running daemon adds what the file lacks
// (a full disk) and, with --follow, streams new events.
func cmdEvents(ctx context.Context, c *call) error {
	list := func(n string) []string { return c.fl.Lookup(n).Value.(flag.Getter).Get().([]string) }
	at := func(n string) time.Time { return c.fl.Lookup(n).Value.(flag.Getter).Get().(time.Time) }
	f := eventFilter{Pods: list("pod"), Namespaces: list("namespace"), Rules: list("rule"), Techniques: list("technique"),
		Actions: list("action"), Nodes: list("node"), Rulesets: list("ruleset"), Since: at("since"), Until: at("until")}
	for _, a := range f.Actions {
		switch a {
		case "log", "isolate", "terminate":
		default:
			return fmt.Errorf("--action %q: use log, isolate or terminate", a)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return fmt.Errorf("--since %s is not before --until %s", f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	follow := c.fl.Lookup("follow").Value.String() == "true"
	out := &eventPrinter{w: c.Stdout, json: c.asJSON(), tw: c.table()}
	defer out.flush()
	// History is sorted by time before it is printed; with --follow the
	// events after it are printed as they come.
	var history []events.Event
	live := false
	seen := map[string]bool{}
	emit := func(ev events.Event) {
		key := eventKey(ev)
		if seen[key] || !f.match(ev) {
			return
		}
		seen[key] = true
		if !live {
			history = append(history, ev)
			return
		}
		out.print(ev)
		out.flush()
	}
	goLive := func() {
		sort.SliceStable(history, func(i, j int) bool { return history[i].Time.Before(history[j].Time) })
		for _, ev := range history {
			out.print(ev)
		}
		out.flush()
		history, live = nil, follow
	}
	defer goLive()

	file := c.fl.Lookup("file").Value.String()
	if file != "" {
		ef := &eventsFile{path: file, stderr: c.Stderr, fn: emit, poll: 200 * time.Millisecond}
		if err := ef.read(); err != nil || !follow {
			ef.close()
			return err
		}
		goLive()
		return ef.follow(ctx)
	}
	cfg, cfgErr := config.LoadForClient(c.config)
	if cfg == nil {
		return cfgErr
	}
	var ef *eventsFile
	var fileErr error
	if cfg.Events.File != "" {
		ef = &eventsFile{path: cfg.Events.File, stderr: c.Stderr, fn: emit, poll: 200 * time.Millisecond}
		fileErr = ef.read()
		defer ef.close()
	}
	err := api.NewClient(cfg.API.Socket).Events(ctx, false, func(ev events.Event) bool { emit(ev); return true })
	if err == nil {
		if fileErr != nil && !errors.Is(fileErr, fs.ErrNotExist) {
			fmt.Fprintf(c.Stderr, "podguard events: %v; showing only the %d latest events the daemon keeps\n", fileErr, len(history))
		}
		if !follow {
			return nil
		}
		goLive()
		return api.NewClient(cfg.API.Socket).Events(ctx, true, func(ev events.Event) bool { emit(ev); return true })
	}
	if !errors.Is(err, api.ErrNotRunning) {
		return err
	}
	if ef == nil {
		return fmt.Errorf("podguard is not running and no events file is configured (events.file)")
	}
	if fileErr != nil {
		return fileErr
	}
	fmt.Fprintf(c.Stderr, "podguard is not running; reading %s\n", ef.path)
	if !follow {
		return nil
	}
	goLive()
	return ef.follow(ctx)
}

// eventKey identifies an event across the file and the daemon's memory.
func eventKey(ev events.Event) string {
	return ev.Time.Format(time.RFC3339Nano) + "\x00" + ev.Rule.ID + "\x00" + ev.Container.ID + "\x00" +
		strconv.FormatUint(uint64(ev.Process.PID), 10) + "\x00" + strconv.Itoa(ev.Count) + "\x00" + ev.Ruleset
}

// eventPrinter writes events as a table (header before the first) or as
// JSON lines. Table cells are printable: what a process chose (its argv,
// a file name) is escaped, never sent to the terminal as is.
type eventPrinter struct {
	w    io.Writer
	json bool
	tw   *tabwriter.Writer
	n    int
}

// timeLayout is the table's time column: date, milliseconds and zone.
const timeLayout = "2006-01-02 15:04:05.000 MST"

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
	args := make([]string, len(ev.Process.Args))
	for i, a := range ev.Process.Args {
		args[i] = printable(a)
	}
	proc := strings.Join(args, " ")
	if proc == "" {
		proc = printable(ev.Process.Exe)
	}
	proc = trim(proc, 60)
	if ev.Process.KilledInKernel {
		proc += " [killed in kernel]"
	}
	if ev.Count > 1 {
		proc += fmt.Sprintf(" [x%d more]", ev.Count)
	}
	cells := []string{ev.Time.Local().Format(timeLayout), printable(ev.Pod.Namespace + "/" + ev.Pod.Name), printable(ev.Rule.ID),
		printable(ev.Rule.Technique), printable(mit), proc}
	fmt.Fprintln(p.tw, strings.Join(cells, "\t"))
}

func (p *eventPrinter) flush() { p.tw.Flush() }
