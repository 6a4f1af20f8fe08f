package api

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
	"strings"
	"syscall"
	"time"

	"github.com/podguard/podguard/daemon/events"
)

// The API's endpoints on the daemon's socket.
const (
	// StatusPath answers GET with a Status.
	StatusPath = "/v1/status"
	// EventsPath answers GET with the recent events as JSON lines, oldest
	// first; with FollowParam=1 it then streams new ones.
	EventsPath = "/v1/events"
	// ReleasePath lifts the isolation of the pod named by PodParam (POST)
	// and answers with its IsolatedPod record.
	ReleasePath = "/v1/release"

	FollowParam = "follow"
	PodParam    = "pod"
)

// baseURL is what requests name; the transport dials the socket whatever
// the host.
const baseURL = "http://podguard"

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
	return st, c.do(ctx, http.MethodGet, StatusPath, &st)
}

// Release asks the daemon to lift a pod's isolation.
func (c *Client) Release(ctx context.Context, pod string) (IsolatedPod, error) {
	var rec IsolatedPod
	return rec, c.do(ctx, http.MethodPost, ReleasePath+"?"+PodParam+"="+url.QueryEscape(pod), &rec)
}

// Events streams the daemon's recent events (then new ones with follow)
// to fn until the daemon closes the stream, ctx ends or fn returns false.
func (c *Client) Events(ctx context.Context, follow bool, fn func(events.Event) bool) error {
	q := ""
	hc := c.http
	if follow {
		q = "?" + FollowParam + "=1"
		hc = &http.Client{Transport: c.http.Transport} // no timeout on a stream
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+EventsPath+q, nil)
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

func (c *Client) do(ctx context.Context, method, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, baseURL+path, nil)
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

// explain turns a failure to reach the daemon into what to do about it.
func (c *Client) explain(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: nothing answers on %s; start it with `podguard run` (or `systemctl start podguard`), or pass the --config the daemon uses", ErrNotRunning, c.socket)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("permission denied on %s: the podguard API is root only; run this command as root", c.socket)
	}
	return fmt.Errorf("ask podguard on %s: %w", c.socket, err)
}
