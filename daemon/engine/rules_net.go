package engine

import (
	"path"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
	"net/netip"
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

// netRules judge sockets and connections.
var netRules = []definition{
	{
		Rule: catalog.Rule{
			ID:          "outbound-nonstandard-port-from-shell",
			Name:        "Shell or interpreter connecting out on a non-standard port",
			Description: "A shell or script interpreter (sh, bash, python, perl, ruby, php…) opened a TCP or UDP connection to a non-loopback address on a port other than 53, 80 or 443.",
			Tactic:      "TA0011", TacticName: "Command and Control",
			Technique:  "T1571",
			Events:     []string{"connect"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			a, port, ok := c.inetConnect()
			if !ok || a.IsLoopback() || a.IsUnspecified() || port == 0 || usualPorts[port] || !(c.isShell() || c.isInterpreter()) {
				return nil, false
			}
			return dest(a, port), true
		},
	},
	{
		Rule: catalog.Rule{
			ID:          "cloud-metadata-access",
			Name:        "Cloud instance metadata service contacted",
			Description: "A container connected to the cloud metadata service (169.254.169.254, fd00:ec2::254, 100.100.100.200), where node credentials can be read.",
			Tactic:      "TA0006", TacticName: "Credential Access",
			Technique:  "T1552.005",
			Events:     []string{"connect"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
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
	},
	{
		Rule: catalog.Rule{
			ID:          "container-runtime-socket",
			Name:        "Container runtime socket contacted",
			Description: "A container connected to or opened a container runtime's API socket (docker.sock, containerd.sock, crio.sock): with it a workload controls every container on the node.",
			Tactic:      "TA0006", TacticName: "Credential Access",
			Technique:  "T1552.007",
			Events:     []string{"connect", "open"},
			Mitigation: catalog.Isolate,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			switch {
			case e.Kind == probes.KindConnect && e.Family == afUnix && runtimeSocks[path.Base(e.UnixPath)]:
				return Details{"path": e.UnixPath, "operation": "connect"}, true
			case e.Kind == probes.KindOpen && runtimeSocks[path.Base(e.Path)]:
				return Details{"path": e.Path, "operation": "open"}, true
			}
			return nil, false
		},
		open: &OpenInterest{BasePrefixes: runtimeSockNames},
	},
	{
		Rule: catalog.Rule{
			ID:          "packet-capture",
			Name:        "Raw or packet socket opened",
			Description: "A container opened an AF_PACKET or SOCK_RAW socket, which sniffs or forges traffic.",
			Tactic:      "TA0006", TacticName: "Credential Access",
			Technique:  "T1040",
			Events:     []string{"socket"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
			e := c.Ev
			if e.Kind != probes.KindSocket || c.exempt(set("ping", "ping6", "arping")) {
				return nil, false
			}
			if e.Family == afPacket || e.SockType&0xf == sockRaw {
				return Details{"family": e.Family, "type": e.SockType & 0xf, "protocol": e.Protocol}, true
			}
			return nil, false
		},
	},
	{
		Rule: catalog.Rule{
			ID:          "kubernetes-api-contact",
			Name:        "Kubernetes API contacted from a shell or tool",
			Description: "A shell, curl, wget, python or a program not from the image connected to the Kubernetes API server address the pod was given (KUBERNETES_SERVICE_HOST and _PORT).",
			Tactic:      "TA0007", TacticName: "Discovery",
			Technique:  "T1613",
			Events:     []string{"connect"},
			Mitigation: catalog.Log,
		},
		cond: func(c *Ctx) (Details, bool) {
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
	},
	{
		Rule: catalog.Rule{
			ID:          "mining-pool-connection",
			Name:        "Connection to a mining pool port",
			Description: "A container connected to a public address on a port used by mining pools (3333-3336, 3357, 4444, 5555, 7777, 8888, 9999, 14433, 14444, 45560, 45700).",
			Tactic:      "TA0040", TacticName: "Impact",
			Technique:  "T1496",
			Events:     []string{"connect"},
			Mitigation: catalog.Isolate,
		},
		cond: func(c *Ctx) (Details, bool) {
			a, port, ok := c.inetConnect()
			if !ok || !poolPorts[port] || !public(a) {
				return nil, false
			}
			return dest(a, port), true
		},
	},
}
