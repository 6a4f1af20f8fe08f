package ctrd

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// wantUnreachable checks that err tells the operator which socket to check.
func wantUnreachable(tb testing.TB, err error, address string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("connected to %s, want an error", address)
	}
	for _, s := range []string{address, "[containerd] address"} {
		if !strings.Contains(err.Error(), s) {
			tb.Errorf("error %q does not say %q", err, s)
		}
	}
}

func TestConnectWithoutContainerd(t *testing.T) {
	address := filepath.Join(t.TempDir(), "containerd.sock")
	_, err := Connect(context.Background(), address, "k8s.io", time.Second)
	wantUnreachable(t, err, address)
}

// TestConnectToASilentSocket: something listens on the socket but never
// speaks gRPC; Connect gives up instead of returning a dead client.
func TestConnectToASilentSocket(t *testing.T) {
	address := filepath.Join(t.TempDir(), "containerd.sock")
	l, err := net.Listen("unix", address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	_, err = Connect(context.Background(), address, "k8s.io", 200*time.Millisecond)
	wantUnreachable(t, err, address)
}
