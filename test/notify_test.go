package test

import (
	"net"
	"time"
)

func listenUnixgram(path string) (*net.UnixConn, error) {
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	return c, nil
}
