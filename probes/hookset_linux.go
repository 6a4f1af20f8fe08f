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
// programs for HookSetLSM; fentry programs on the security_ functions
// behind the same hooks for HookSetFentry (their context is the same
// arguments, and they return 0 as an fentry program must); for
// HookSetTracepoints raw tracepoint programs that are never attached (the
// object's program set is fixed, and a kernel without BPF-LSM cannot load
// LSM programs).
func prepareHookSet(spec *ebpf.CollectionSpec, set HookSet) {
	for _, ps := range spec.Programs {
		if ps.Type != ebpf.LSM {
			continue
		}
		switch set {
		case HookSetLSM:
		case HookSetFentry:
			ps.Type, ps.AttachType, ps.AttachTo = ebpf.Tracing, ebpf.AttachTraceFEntry, "security_"+ps.AttachTo
		default:
			ps.Type, ps.AttachType, ps.AttachTo = ebpf.RawTracepoint, ebpf.AttachNone, ""
		}
	}
}

// attachLSM attaches the LSM programs: as BPF-LSM programs
// (HookSetLSM) or fentry programs (HookSetFentry).
func (p *Probes) attachLSM() error {
	for _, h := range lsmHooks(&p.objs) {
		var l link.Link
		var err error
		name := "lsm/" + h.hook
		switch p.hookSet {
		case HookSetLSM:
			l, err = link.AttachLSM(link.LSMOptions{Program: h.prog})
		case HookSetFentry:
			name = "fentry/security_" + h.hook
			l, err = link.AttachTracing(link.TracingOptions{Program: h.prog, AttachType: ebpf.AttachTraceFEntry})
		default:
			return nil
		}
		if err != nil {
			return fmt.Errorf("attach %s: %w", name, err)
		}
		p.links = append(p.links, l)
		p.attached = append(p.attached, name)
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
