package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/daemon/events"
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

// serveAPI listens on the local control socket, root only (mode 0600 in a
// 0700 directory). The caller holds the instance lock, so a socket file
// already there is a leftover of a dead daemon.
func (d *Daemon) serveAPI(socket string) (*http.Server, error) {
	os.Remove(socket)
	l, err := net.Listen("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("listen on api socket: %w", err)
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("chmod api socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, d.Status())
	})
	mux.HandleFunc("GET /v1/events", d.serveEvents)
	mux.HandleFunc("POST /v1/release", func(w http.ResponseWriter, r *http.Request) {
		ref := r.URL.Query().Get("pod")
		who := "api"
		if c, ok := r.Context().Value(peerKey{}).(peer); ok {
			who = fmt.Sprintf("uid %d pid %d over the api socket", c.uid, c.pid)
		}
		rec, err := d.mit.Release(ref, who)
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		writeJSON(w, IsolatedPod{Pod: rec.Namespace + "/" + rec.PodName, UID: rec.PodUID, Rule: rec.Rule, Since: rec.Since, Mode: string(rec.Mode), HostIf: rec.HostIfName})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ConnContext: withPeer}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("api server stopped", "err", err)
		}
	}()
	return srv, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// ErrNotRunning means no daemon answered on the API socket.
var ErrNotRunning = errors.New("podguard is not running")

// Client talks to a running daemon over its API socket.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a client for the daemon listening on socket.
func NewClient(socket string) *Client {
	return &Client{socket: socket, http: &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", socket)
		}},
	}}
}

// Status asks the daemon for its status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	return st, c.get(ctx, "/v1/status", &st)
}

func (c *Client) get(ctx context.Context, path string, v any) error {
	return c.do(ctx, http.MethodGet, path, v)
}

func (c *Client) do(ctx context.Context, method, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://podguard"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.explain(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s", strings.TrimSpace(string(msg)))
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// Release asks the daemon to lift a pod's isolation.
func (c *Client) Release(ctx context.Context, pod string) (IsolatedPod, error) {
	var rec IsolatedPod
	return rec, c.do(ctx, http.MethodPost, "/v1/release?pod="+url.QueryEscape(pod), &rec)
}

func (c *Client) explain(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: nothing answers on %s; start it with `podguard run` (or `systemctl start podguard`), or pass the --config the daemon uses", ErrNotRunning, c.socket)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("permission denied on %s: the podguard API is root only; run this command as root", c.socket)
	}
	return fmt.Errorf("ask podguard on %s: %w", c.socket, err)
}

// Events streams the daemon's recent events (then new ones with follow)
// to fn until the daemon closes the stream, ctx ends or fn returns false.
func (c *Client) Events(ctx context.Context, follow bool, fn func(events.Event) bool) error {
	q := ""
	hc := c.http
	if follow {
		q = "?follow=1"
		hc = &http.Client{Transport: c.http.Transport} // no timeout on a stream
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://podguard/v1/events"+q, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return c.explain(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var ev events.Event
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !fn(ev) {
			return nil
		}
	}
}
