package engine

import (
	"net/netip"
	"path"

	"github.com/podguard/podguard/probes"
)

const (
	afUnix   = 1
	afInet   = 2
	afInet6  = 10
	afPacket = 17
	sockRaw  = 3
)

var (
	metadataAddrs    = []netip.Addr{netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("fd00:ec2::254"), netip.MustParseAddr("100.100.100.200")}
	runtimeSockNames = []string{"docker.sock", "containerd.sock", "crio.sock", "dockershim.sock", "cri-dockerd.sock", "podman.sock"}
	runtimeSocks     = set(runtimeSockNames...)
	poolPorts        = map[uint16]bool{3333: true, 3334: true, 3335: true, 3336: true, 3357: true, 4444: true, 5555: true, 7777: true, 8888: true, 9999: true, 14433: true, 14444: true, 45560: true, 45700: true}
	usualPorts       = map[uint16]bool{53: true, 80: true, 443: true}
)

// inetConnect returns the destination of an AF_INET/AF_INET6 connect.
func (c *Ctx) inetConnect() (netip.Addr, uint16, bool) {
	e := c.Ev
	if e.Kind != probes.KindConnect || (e.Family != afInet && e.Family != afInet6) || !e.Addr.IsValid() {
		return netip.Addr{}, 0, false
	}
	return e.Addr.Unmap(), e.Port, true
}

func dest(a netip.Addr, port uint16) Details {
	return Details{"address": a.String(), "port": port}
}

// public reports whether an address is routable on the internet.
func public(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(a)
}

var netConditions = map[string]condition{
	"outbound-nonstandard-port-from-shell": func(c *Ctx) (Details, bool) {
		a, port, ok := c.inetConnect()
		if !ok || a.IsLoopback() || a.IsUnspecified() || port == 0 || usualPorts[port] || !(c.isShell() || c.isInterpreter()) {
			return nil, false
		}
		return dest(a, port), true
	},
	"cloud-metadata-access": func(c *Ctx) (Details, bool) {
		a, port, ok := c.inetConnect()
		if !ok {
			return nil, false
		}
		for _, m := range metadataAddrs {
			if a == m {
				return dest(a, port), true
			}
		}
		return nil, false
	},
	"container-runtime-socket": func(c *Ctx) (Details, bool) {
		e := c.Ev
		switch {
		case e.Kind == probes.KindConnect && e.Family == afUnix && runtimeSocks[path.Base(e.UnixPath)]:
			return Details{"path": e.UnixPath, "operation": "connect"}, true
		case e.Kind == probes.KindOpen && runtimeSocks[path.Base(e.Path)]:
			return Details{"path": e.Path, "operation": "open"}, true
		}
		return nil, false
	},
	"packet-capture": func(c *Ctx) (Details, bool) {
		e := c.Ev
		if e.Kind != probes.KindSocket || c.is(set("ping", "ping6", "arping")) {
			return nil, false
		}
		if e.Family == afPacket || e.SockType&0xf == sockRaw {
			return Details{"family": e.Family, "type": e.SockType & 0xf, "protocol": e.Protocol}, true
		}
		return nil, false
	},
	"kubernetes-api-contact": func(c *Ctx) (Details, bool) {
		a, port, ok := c.inetConnect()
		if !ok || !(c.isShell() || c.isInterpreter() || c.is(tokenReaders) || !c.Proc.FromImage()) {
			return nil, false
		}
		api, known := c.env.apiServer(c.ID.Container.ID, c.ID.Container.InitPID)
		if !known || api != netip.AddrPortFrom(a, port) {
			return nil, false
		}
		return dest(a, port), true
	},
	"mining-pool-connection": func(c *Ctx) (Details, bool) {
		a, port, ok := c.inetConnect()
		if !ok || !poolPorts[port] || !public(a) {
			return nil, false
		}
		return dest(a, port), true
	},
}

// netOpenInterest: the opens netConditions match (see fileOpenInterest).
var netOpenInterest = map[string]OpenInterest{
	"container-runtime-socket": {BasePrefixes: runtimeSockNames},
}
