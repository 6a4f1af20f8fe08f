package isolate

import (
	"errors"
	"fmt"
)

// Reconcile makes the kernel match the pods that still exist. exists
// reports whether a pod is still on the node and, for a pod with its own
// network namespace, its current netns path ("" keeps the recorded one).
//
//   - a recorded pod that exists keeps its isolation: the filters are
//     replaced in place with this process's programs (and allow list), or
//     re-attached on its current veth if the veth changed;
//   - a recorded pod that is gone is released and forgotten;
//   - isolation found in the kernel without a record (state lost) is
//     adopted as a Recovered record when the pod exists, removed otherwise.
//
// Filters are never duplicated. Errors for single pods are joined; the
// other pods are still reconciled.
func (iso *Isolator) Reconcile(exists func(podUID string) (netnsPath string, ok bool)) error {
	iso.mu.Lock()
	defer iso.mu.Unlock()
	att, err := Installed()
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	for _, a := range att {
		if _, ok := iso.recs[a.PodUID]; ok {
			continue
		}
		iso.recs[a.PodUID] = Record{
			PodUID: a.PodUID, HostIfName: a.IfName, HostIfIndex: a.IfIndex,
			Mode: a.Mode, HostNetwork: a.Mode == ModeCgroup, Recovered: true,
		}
		iso.log.Warn("isolation found in kernel without state", "pod_uid", a.PodUID, "host_if", a.IfName, "pin", a.PinPath)
	}

	var errs []error
	for uid, rec := range iso.recs {
		nsPath, ok := exists(uid)
		if !ok {
			if _, err := iso.removeKernel(uid, rec); err != nil {
				errs = append(errs, fmt.Errorf("release gone pod %s: %w", uid, err))
				continue
			}
			delete(iso.recs, uid)
			iso.log.Info("isolation removed for gone pod", "pod_uid", uid, "pod", rec.PodName, "namespace", rec.Namespace)
			continue
		}
		if nsPath != "" {
			rec.NetNSPath = nsPath
		}
		if err := iso.keep(&rec); err != nil {
			errs = append(errs, fmt.Errorf("keep isolation of pod %s: %w", uid, err))
			continue
		}
		iso.recs[uid] = rec
	}
	if err := saveState(iso.dir, iso.recs, iso.key); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// keep re-enforces an existing pod's isolation with this process's programs.
func (iso *Isolator) keep(rec *Record) error {
	if rec.HostNetwork {
		rec.Mode = ModeCgroup
		if rec.CgroupPath == "" {
			// Recovered from pins only: the links are in place, but
			// without the cgroup path they cannot be re-attached.
			if hasCgroup(rec.PodUID) {
				return nil
			}
			return ErrHostNetwork
		}
		p := iso.objs.dropPrograms
		return attachCgroup(rec.PodUID, rec.CgroupPath, p.IsolateCgEgress, p.IsolateCgIngress)
	}
	prevIndex := rec.HostIfIndex
	if rec.NetNSPath != "" {
		veth, err := hostVeth(rec.NetNSPath)
		if err != nil {
			return err
		}
		rec.HostIfName, rec.HostIfIndex = veth.Attrs().Name, veth.Attrs().Index
	} else if rec.HostIfIndex == 0 || !linkExists(rec.HostIfIndex) {
		return fmt.Errorf("no netns path and host link %d is gone: %w", rec.HostIfIndex, ErrNoVeth)
	}
	rec.Mode = vethMode(rec.PodUID, rec.HostIfIndex)
	return iso.attachVeth(*rec, prevIndex)
}
