package isolate

import (
	"net/netip"
	"testing"
)

func TestAllowKey(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		bits   uint32
		addr   string
	}{
		{"10.1.2.3/24", 120, "::ffff:10.1.2.0"},
		{"192.168.0.1/32", 128, "::ffff:192.168.0.1"},
		{"0.0.0.0/0", 96, "::ffff:0.0.0.0"},
		{"fd00:1::5/64", 64, "fd00:1::"},
		{"::/0", 0, "::"},
	} {
		k := allowKey(netip.MustParsePrefix(tc.prefix))
		if k.Prefixlen != tc.bits || netip.AddrFrom16(k.Addr) != netip.MustParseAddr(tc.addr) {
			t.Errorf("allowKey(%s) = /%d %s, want /%d %s", tc.prefix, k.Prefixlen, netip.AddrFrom16(k.Addr), tc.bits, tc.addr)
		}
	}
}

func TestFilterName(t *testing.T) {
	uid, ok := podUIDOf(filterName("0b6e-11"))
	if !ok || uid != "0b6e-11" {
		t.Errorf("podUIDOf(filterName) = %q, %v", uid, ok)
	}
	if _, ok := podUIDOf("cil_from_container"); ok {
		t.Error("a foreign filter name parsed as podguard's")
	}
	if _, ok := podUIDOf(FilterName + ":"); ok {
		t.Error("empty pod uid accepted")
	}
}
