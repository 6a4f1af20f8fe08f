//go:build linux && amd64

package probes

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// lsmHooks are the BPF-LSM programs of HookSetLSM and the hooks they
// attach to (bpf/lsm.h).
func lsmHooks(o *probeObjects) []struct {
	hook string
	prog *ebpf.Program
} {
	return []struct {
		hook string
		prog *ebpf.Program
	}{{"file_open", o.LsmFileOpen}, {"socket_connect", o.LsmSocketConnect}}
}

// prepareHookSet makes the object's LSM programs loadable with set: LSM
// programs for HookSetLSM; for HookSetTracepoints raw tracepoint programs
// that are never attached (the object's program set is fixed, and a
// kernel without BPF-LSM cannot load LSM programs).
func prepareHookSet(spec *ebpf.CollectionSpec, set HookSet) {
	if set == HookSetLSM {
		return
	}
	for _, ps := range spec.Programs {
		if ps.Type == ebpf.LSM {
			ps.Type = ebpf.RawTracepoint
			ps.AttachType = ebpf.AttachNone
			ps.AttachTo = ""
		}
	}
}

// attachLSM attaches the BPF-LSM programs (HookSetLSM only).
func (p *Probes) attachLSM() error {
	if p.hookSet != HookSetLSM {
		return nil
	}
	for _, h := range lsmHooks(&p.objs) {
		l, err := link.AttachLSM(link.LSMOptions{Program: h.prog})
		if err != nil {
			return fmt.Errorf("attach lsm/%s: %w", h.hook, err)
		}
		p.links = append(p.links, l)
		p.attached = append(p.attached, "lsm/"+h.hook)
	}
	return nil
}

// HookSet reports how opens and connects are judged (chosen by Load,
// logged with the reason, HookSetReason).
func (p *Probes) HookSet() HookSet {
	return p.hookSet
}

// HookSetReason says why Load chose HookSet.
func (p *Probes) HookSetReason() string {
	return p.hookSetWhy
}
