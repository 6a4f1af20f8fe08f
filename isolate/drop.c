//go:build ignore

// Drop programs for an isolated pod. Every packet is dropped unless its peer
// address (the address on the other side of the pod) is in the allow LPM trie.
// IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d, prefix+96).

// Built against the headers the probes use (probes/bpf/vendor): kernel types
// from vmlinux.h, helpers from libbpf. Nothing here is read through CO-RE:
// __sk_buff and the map definitions are stable uapi, so vmlinux.h's
// preserve_access_index is turned off and the object loads without kernel BTF.
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include "bpf_helpers.h"
#include "bpf_endian.h"

char __license[] SEC("license") = "Dual MIT/GPL";

struct allow_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__type(key, struct allow_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} allow SEC(".maps");

// uapi #defines, which BTF (and so vmlinux.h) does not carry.
#define TC_ACT_UNSPEC (-1) /* linux/pkt_cls.h */
#define TC_ACT_SHOT 2
#define ETH_HLEN 14 /* linux/if_ether.h */
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86DD
#define ICMPV6_NS 135
#define NEXTHDR_ICMPV6 58

static __always_inline int lookup(struct allow_key *k)
{
	k->prefixlen = 128;
	return bpf_map_lookup_elem(&allow, k) != NULL;
}

static __always_inline int v4_allowed(struct __sk_buff *skb, __u32 off)
{
	struct allow_key k = {};

	k.addr[10] = 0xff;
	k.addr[11] = 0xff;
	if (bpf_skb_load_bytes(skb, off, &k.addr[12], 4) < 0)
		return 0;
	return lookup(&k);
}

static __always_inline int v6_allowed(struct __sk_buff *skb, __u32 off)
{
	struct allow_key k = {};

	if (bpf_skb_load_bytes(skb, off, &k.addr[0], 16) < 0)
		return 0;
	return lookup(&k);
}

// peer_allowed reports whether the packet at nh (network header offset)
// talks to an allowed peer. from_pod: the pod sent it, so the peer is the
// destination; otherwise the pod receives it and the peer is the source.
static __always_inline int peer_allowed(struct __sk_buff *skb, __u32 nh, int from_pod)
{
	__u16 proto = bpf_ntohs(skb->protocol);

	if (proto == ETH_P_IP)
		return v4_allowed(skb, nh + (from_pod ? 16 : 12));

	if (proto == ETH_P_IPV6) {
		__u8 nexthdr = 0, type = 0;

		if (from_pod && bpf_skb_load_bytes(skb, nh + 6, &nexthdr, 1) == 0 &&
		    nexthdr == NEXTHDR_ICMPV6 &&
		    bpf_skb_load_bytes(skb, nh + 40, &type, 1) == 0 &&
		    type == ICMPV6_NS)
			// neighbour solicitation goes to a multicast address:
			// the peer is the target being resolved.
			return v6_allowed(skb, nh + 48);
		return v6_allowed(skb, nh + (from_pod ? 24 : 8));
	}

	if (proto == ETH_P_ARP) {
		__u8 hdr[6];

		// Ethernet/IPv4 ARP only: htype 1, ptype 0x0800, hlen 6, plen 4.
		if (bpf_skb_load_bytes(skb, nh, hdr, sizeof(hdr)) < 0)
			return 0;
		if (hdr[0] != 0 || hdr[1] != 1 || hdr[2] != 0x08 || hdr[3] != 0 ||
		    hdr[4] != 6 || hdr[5] != 4)
			return 0;
		// sender protocol address at 14, target protocol address at 24.
		return v4_allowed(skb, nh + (from_pod ? 24 : 14));
	}
	return 0;
}

// Host-side veth ingress: packets the pod sends.
SEC("tc")
int isolate_from_pod(struct __sk_buff *skb)
{
	return peer_allowed(skb, ETH_HLEN, 1) ? TC_ACT_UNSPEC : TC_ACT_SHOT;
}

// Host-side veth egress: packets sent to the pod.
SEC("tc")
int isolate_to_pod(struct __sk_buff *skb)
{
	return peer_allowed(skb, ETH_HLEN, 0) ? TC_ACT_UNSPEC : TC_ACT_SHOT;
}

// Host-network pods: cgroup egress is what the pod sends.
SEC("cgroup_skb/egress")
int isolate_cg_egress(struct __sk_buff *skb)
{
	return peer_allowed(skb, 0, 1);
}

// Host-network pods: cgroup ingress is what the pod receives.
SEC("cgroup_skb/ingress")
int isolate_cg_ingress(struct __sk_buff *skb)
{
	return peer_allowed(skb, 0, 0);
}
