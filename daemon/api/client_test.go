package api

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/events"
)

// serve answers on a Unix socket in a temporary directory with h, as the
// daemon does, and returns the socket's path.
func serve(tb testing.TB, h http.Handler) string {
	tb.Helper()
	sock := filepath.Join(tb.TempDir(), "podguard.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return sock
}

func TestClientStatusAndRelease(t *testing.T) {
	since := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+StatusPath, func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(Status{Version: "1.2.3", Node: "n1", Isolated: []IsolatedPod{{Pod: "shop/web", UID: "u1", Since: since}}})
	})
	mux.HandleFunc("POST "+ReleasePath, func(w http.ResponseWriter, r *http.Request) {
		if pod := r.URL.Query().Get(PodParam); pod != "shop/web" {
			http.Error(w, "no isolated pod matches "+pod, http.StatusConflict)
			return
		}
		json.NewEncoder(w).Encode(IsolatedPod{Pod: "shop/web", UID: "u1", Rule: "container-drift", Since: since})
	})
	c := NewClient(serve(t, mux))
	ctx := context.Background()

	st, err := c.Status(ctx)
	if err != nil || st.Version != "1.2.3" || st.Node != "n1" || len(st.Isolated) != 1 || !st.Isolated[0].Since.Equal(since) {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	rec, err := c.Release(ctx, "shop/web")
	if err != nil || rec.UID != "u1" || rec.Rule != "container-drift" {
		t.Fatalf("Release = %+v, %v", rec, err)
	}
	// The daemon's refusal is the error, word for word.
	if _, err := c.Release(ctx, "a b&c"); err == nil || err.Error() != "no isolated pod matches a b&c" {
		t.Fatalf("Release of an unknown pod: %v", err)
	}
}

func TestClientEvents(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+EventsPath, func(w http.ResponseWriter, r *http.Request) {
		enc := json.NewEncoder(w)
		for _, id := range []string{"a", "b", "c"} {
			enc.Encode(events.Event{Rule: events.Rule{ID: id}})
		}
		if r.URL.Query().Get(FollowParam) == "1" {
			enc.Encode(events.Event{Rule: events.Rule{ID: "followed"}})
		}
	})
	c := NewClient(serve(t, mux))
	collect := func(follow bool, max int) string {
		t.Helper()
		var ids []string
		err := c.Events(context.Background(), follow, func(ev events.Event) bool {
			ids = append(ids, ev.Rule.ID)
			return len(ids) < max
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(ids, ",")
	}
	if got := collect(false, 10); got != "a,b,c" {
		t.Errorf("events = %s", got)
	}
	if got := collect(true, 10); got != "a,b,c,followed" {
		t.Errorf("events with follow = %s", got)
	}
	if got := collect(false, 2); got != "a,b" {
		t.Errorf("events until fn says stop = %s", got)
	}
}

// TestClientNotRunning: with no daemon on the socket, the error says so
// and what to do, and callers can tell it apart.
func TestClientNotRunning(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "absent.sock")
	c := NewClient(sock)
	_, err := c.Status(context.Background())
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "nothing answers on "+sock+"; start it with `podguard run`") {
		t.Fatalf("Status with no daemon: %v", err)
	}
	if err := c.Events(context.Background(), false, func(events.Event) bool { return true }); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Events with no daemon: %v", err)
	}
}
