package isolate

import (
	"testing"

	"github.com/vishvananda/netlink"
)

func mac(tb testing.TB, nsPath, ifname string) string {
	tb.Helper()
	var hw string
	err := inNS(nsPath, func() error {
		l, err := netlink.LinkByName(ifname)
		if err == nil {
			hw = l.Attrs().HardwareAddr.String()
		}
		return err
	})
	if err != nil {
		tb.Fatalf("mac of %s: %v", ifname, err)
	}
	return hw
}
