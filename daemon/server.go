package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/isolate"
)

type peerKey struct{}

type peer struct{ uid, pid int32 }

// withPeer records who is on the other end of an API connection
// (SO_PEERCRED), so that releases are logged with their author.
func withPeer(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return ctx
	}
	var cred *unix.Ucred
	raw.Control(func(fd uintptr) { cred, _ = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if cred == nil {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, peer{uid: int32(cred.Uid), pid: cred.Pid})
}

// serveAPI listens on the local control socket, root only: the socket is
// bound in a fresh 0700 directory, made 0600, and only then renamed into
// place, so there is no moment when another user can connect; its
// directory was checked (and tightened) by lockInstance. The caller holds
// the instance lock, so a socket file already there is a leftover of a
// dead daemon.
func (d *Daemon) serveAPI(socket string) (*http.Server, error) {
	os.Remove(socket)
	l, err := listenPrivate(socket)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.StatusPath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, d.Status())
	})
	mux.HandleFunc("GET "+api.EventsPath, d.serveEvents)
	mux.HandleFunc("POST "+api.ReleasePath, func(w http.ResponseWriter, r *http.Request) {
		ref := r.URL.Query().Get(api.PodParam)
		who := "api"
		if c, ok := r.Context().Value(peerKey{}).(peer); ok {
			who = fmt.Sprintf("uid %d pid %d over the api socket", c.uid, c.pid)
		}
		rec, err := d.mit.Release(ref, who)
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		writeJSON(w, isolatedPod(rec))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ConnContext: withPeer}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("api server stopped", "err", err)
		}
	}()
	return srv, nil
}

// isolatedPod is an isolation record as the API shows it.
// listenPrivate binds a Unix socket at path with mode 0600 from its
// first moment (see serveAPI). The listener does not unlink path on
// Close: the daemon removes it when it stops.
func listenPrivate(path string) (net.Listener, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".s")
	if err != nil {
		return nil, fmt.Errorf("listen on api socket: %w", err)
	}
	defer os.Remove(tmp)
	bound := filepath.Join(tmp, "s")
	l, err := net.Listen("unix", bound)
	if err != nil {
		return nil, fmt.Errorf("listen on api socket: %w", err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(bound, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("chmod api socket: %w", err)
	}
	if err := os.Rename(bound, path); err != nil {
		l.Close()
		os.Remove(bound)
		return nil, fmt.Errorf("place api socket at %s: %w", path, err)
	}
	return l, nil
}

func isolatedPod(r isolate.Record) api.IsolatedPod {
	return api.IsolatedPod{Pod: r.Namespace + "/" + r.PodName, UID: r.PodUID, Rule: r.Rule, Since: r.Since, Mode: string(r.Mode), HostIf: r.HostIfName}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// serveEvents writes the events kept in memory as JSON lines, oldest
// first; with follow=1 it then streams new events until the client leaves.
func (d *Daemon) serveEvents(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	follow := r.URL.Query().Get(api.FollowParam) == "1"
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
