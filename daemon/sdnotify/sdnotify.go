package sdnotify

import (
	"fmt"
	"net"
	"os"
)

// Notify sends state, newline-separated VAR=value assignments such as
// "READY=1\nSTATUS=...", to systemd. Without NOTIFY_SOCKET (not started by
// systemd) it does nothing and returns nil.
func Notify(state string) error {
	sock := os.Getenv("NOTIFY_SOCKET")
	if sock == "" {
		return nil
	}
	if sock[0] == '@' { // an abstract socket
		sock = "\x00" + sock[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	return nil
}
