package daemon

import (
	"encoding/json"
	"net/http"

	"github.com/podguard/podguard/daemon/events"
)

// serveEvents writes the events kept in memory as JSON lines, oldest
// first; with follow=1 it then streams new events until the client leaves.
func (d *Daemon) serveEvents(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	follow := r.URL.Query().Get("follow") == "1"
	var ch <-chan events.Event
	if follow {
		var cancel func()
		ch, cancel = d.out.Subscribe()
		defer cancel()
	}
	for _, ev := range d.out.Recent() {
		if enc.Encode(ev) != nil {
			return
		}
	}
	if !follow {
		return
	}
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case ev := <-ch:
			if enc.Encode(ev) != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}
