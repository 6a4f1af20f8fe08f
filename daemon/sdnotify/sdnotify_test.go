package sdnotify

import (
	"net"
	"path/filepath"
	"testing"
	"time"
)

// listen makes a notify socket as systemd would and points NOTIFY_SOCKET
// at it (env is the variable's value: a path, or @name for an abstract
// socket).
func listen(tb testing.TB, addr, env string) *net.UnixConn {
	tb.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	tb.Setenv("NOTIFY_SOCKET", env)
	return c
}

func expectState(tb testing.TB, conn *net.UnixConn, want string) {
	tb.Helper()
	if err := Notify(want); err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	if err != nil || string(buf[:n]) != want {
		tb.Fatalf("systemd got %q, err %v; want %q", buf[:n], err, want)
	}
}

func TestNotifyPath(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	expectState(t, listen(t, sock, sock), "READY=1\nSTATUS=up")
}

func TestNotifyOutsideSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if err := Notify("READY=1"); err != nil {
		t.Fatalf("without NOTIFY_SOCKET: %v, want nil", err)
	}
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "absent.sock"))
	if err := Notify("READY=1"); err == nil {
		t.Fatal("a NOTIFY_SOCKET nobody listens on: want an error")
	}
}
