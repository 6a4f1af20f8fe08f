package engine

import (
	"bytes"
	"net/netip"
	"os"
	"strconv"
)

// envCache remembers, per container, the Kubernetes API server address
// its init process was given (KUBERNETES_SERVICE_HOST and _PORT). Only
// those two variables are read; nothing else of the environment is kept
// or reported.
type envCache struct {
	api map[string]apiEntry
}

type apiEntry struct {
	addr  netip.AddrPort
	known bool
}

func newEnvCache() *envCache { return &envCache{api: map[string]apiEntry{}} }

func (e *envCache) apiServer(containerID string, initPID uint32) (netip.AddrPort, bool) {
	if containerID == "" || initPID == 0 {
		return netip.AddrPort{}, false
	}
	if ent, ok := e.api[containerID]; ok {
		return ent.addr, ent.known
	}
	var ent apiEntry
	if data, err := os.ReadFile("/proc/" + strconv.Itoa(int(initPID)) + "/environ"); err == nil {
		var host, port string
		for _, kv := range bytes.Split(data, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("KUBERNETES_SERVICE_HOST=")); ok {
				host = string(v)
			}
			if v, ok := bytes.CutPrefix(kv, []byte("KUBERNETES_SERVICE_PORT=")); ok {
				port = string(v)
			}
		}
		if a, err := netip.ParseAddr(host); err == nil {
			if p, err := strconv.ParseUint(port, 10, 16); err == nil {
				ent = apiEntry{addr: netip.AddrPortFrom(a, uint16(p)), known: true}
			}
		}
	}
	if len(e.api) > 4096 {
		clear(e.api)
	}
	e.api[containerID] = ent
	return ent.addr, ent.known
}

func (e *envCache) forget(containerID string) { delete(e.api, containerID) }
