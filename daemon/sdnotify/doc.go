// Package sdnotify tells systemd about a Type=notify service's state
// through the datagram socket named by NOTIFY_SOCKET (sd_notify(3)). What
// the state says is the caller's business. It is a leaf: it imports nothing
// of podguard.
package sdnotify
