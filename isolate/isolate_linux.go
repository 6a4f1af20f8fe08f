package isolate

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/podguard/podguard/daemon/trusted"
)

// Isolator isolates pods and remembers which ones it isolated. It is safe
// for concurrent use.
type Isolator struct {
	mu   sync.Mutex
	dir  string
	log  *slog.Logger
	objs dropObjects
	recs map[string]Record
	key  signer
	// rejected are the records of the state file that failed their
	// integrity check at start: reported, never acted on.
	rejected []Record
}

var validUID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// New loads the drop programs with the allow list and reads the state in
// stateDir (created if missing). Loading needs CAP_BPF and CAP_NET_ADMIN.
// New does not touch the kernel's filters: call Reconcile for that.
func New(stateDir string, allow []netip.Prefix, logger *slog.Logger) (*Isolator, error) {
	if logger == nil {
		logger = slog.Default()
	}
	key, err := trusted.StateKey(stateDir)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	recs, rejected, err := loadState(stateDir, key)
	if err != nil {
		// An unreadable state file must not take isolation down: start
		// from the kernel's view (Reconcile adopts what is pinned).
		logger.Error("isolation state ignored; isolation found in the kernel will be recovered", "err", err)
		recs = map[string]Record{}
	}
	for _, r := range rejected {
		logger.Error("isolation record ignored: its integrity check failed (not written by this node's podguard)",
			"pod_uid", r.PodUID, "pod", r.PodName, "namespace", r.Namespace, "host_if", r.HostIfName, "file", filepath.Join(stateDir, stateFile))
	}
	iso := &Isolator{dir: stateDir, log: logger, recs: recs, key: key, rejected: rejected}
	if err := loadDropObjects(&iso.objs, nil); err != nil {
		return nil, fmt.Errorf("load isolation programs: %w", err)
	}
	for _, p := range allow {
		if err := iso.objs.Allow.Put(allowKey(p), uint8(1)); err != nil {
			iso.objs.Close()
			return nil, fmt.Errorf("allow %s: %w", p, err)
		}
	}
	return iso, nil
}

// allowKey turns a prefix into the trie key: IPv4 as IPv4-mapped IPv6.
func allowKey(p netip.Prefix) dropAllowKey {
	p = p.Masked()
	k := dropAllowKey{Prefixlen: uint32(p.Bits())}
	if p.Addr().Is4() {
		k.Prefixlen += 96
	}
	k.Addr = netip.AddrFrom16(p.Addr().As16()).As16()
	return k
}

// Close releases the programs held by this process. Isolation stays in the
// kernel: the filters and pinned links keep their programs alive.
func (iso *Isolator) Close() error {
	return iso.objs.Close()
}

// Apply isolates the pod. It returns applied=false when the pod already
// is isolated with filters in place (nothing changed). On a state-file
// error after the kernel side succeeded it returns applied=true and the
// error: the pod is isolated, and Reconcile finds it from the kernel.
func (iso *Isolator) Apply(t Target) (applied bool, err error) {
	if !validUID.MatchString(t.PodUID) {
		return false, fmt.Errorf("isolate pod %q: invalid pod uid", t.PodUID)
	}
	iso.mu.Lock()
	defer iso.mu.Unlock()

	if !t.HostNetwork {
		host, err := isHostNetNS(t.NetNSPath)
		if err != nil {
			return false, fmt.Errorf("isolate pod %s: %w", t.PodUID, err)
		}
		t.HostNetwork = host
	}
	prev, had := iso.recs[t.PodUID]
	rec := Record{
		PodUID: t.PodUID, PodName: t.PodName, Namespace: t.Namespace, Rule: t.Rule,
		Since: time.Now().UTC(), NetNSPath: t.NetNSPath,
		HostNetwork: t.HostNetwork, CgroupPath: t.CgroupPath,
	}
	if had && !prev.Recovered {
		// The first verdict stays the reason and time of the isolation.
		rec.Since, rec.Rule = prev.Since, prev.Rule
	}
	changed, err := iso.enforce(&rec, prev, had)
	if err != nil {
		return false, fmt.Errorf("isolate pod %s/%s (%s): %w", t.Namespace, t.PodName, t.PodUID, err)
	}
	if changed {
		rec.InPlace = time.Now().UTC()
	}
	if !changed && !prev.Recovered {
		return false, nil
	}
	// A record recovered from the kernel learns who and why here.
	iso.recs[t.PodUID] = rec
	if err := saveState(iso.dir, iso.recs, iso.key); err != nil {
		return changed, err
	}
	if !changed {
		return false, nil
	}
	iso.log.Info("pod isolated", "pod_uid", rec.PodUID, "pod", rec.PodName, "namespace", rec.Namespace,
		"rule", rec.Rule, "mode", rec.Mode, "host_if", rec.HostIfName)
	return true, nil
}

// enforce puts the drop in place for rec, filling in its host link and
// mode. It reports false when the same isolation already was in place.
func (iso *Isolator) enforce(rec *Record, prev Record, had bool) (bool, error) {
	if rec.HostNetwork {
		rec.Mode = ModeCgroup
		if had && prev.Mode == ModeCgroup && hasCgroup(rec.PodUID) {
			return false, nil
		}
		p := iso.objs.dropPrograms
		return true, attachCgroup(rec.PodUID, rec.CgroupPath, p.IsolateCgEgress, p.IsolateCgIngress)
	}
	veth, err := hostVeth(rec.NetNSPath)
	if err != nil {
		return false, err
	}
	rec.HostIfName, rec.HostIfIndex = veth.Attrs().Name, veth.Attrs().Index
	rec.Mode = vethMode(rec.PodUID, rec.HostIfIndex)
	if had && prev.HostIfIndex == rec.HostIfIndex && prev.Mode == rec.Mode && hasVeth(*rec) {
		return false, nil
	}
	prevIndex := 0
	if had {
		prevIndex = prev.HostIfIndex
	}
	return true, iso.attachVeth(*rec, prevIndex)
}

// vethMode picks tcx when the veth has tcx programs (including podguard's
// own from an earlier apply), tc filters otherwise.
func vethMode(podUID string, ifindex int) Mode {
	if tcxInUse(ifindex) || hasPins(podUID, pinTCXIngress) {
		return ModeTCX
	}
	return ModeTC
}

func hasVeth(rec Record) bool {
	if rec.Mode == ModeTCX {
		return hasTCX(rec.PodUID, rec.HostIfIndex)
	}
	return hasTC(rec.HostIfIndex, rec.PodUID)
}

// attachVeth attaches (or replaces in place) the drop programs on the
// record's host veth in its mode, then removes podguard's programs of the
// other mode and from the pod's previous veth.
func (iso *Isolator) attachVeth(rec Record, prevIndex int) error {
	p := iso.objs.dropPrograms
	if rec.Mode == ModeTCX {
		if err := attachTCX(rec.PodUID, rec.HostIfIndex, p.IsolateFromPod, p.IsolateToPod); err != nil {
			return err
		}
		if hasTC(rec.HostIfIndex, rec.PodUID) {
			if err := detachTC(rec.HostIfIndex); err != nil {
				iso.log.Warn("remove tc filters after switch to tcx", "pod_uid", rec.PodUID, "err", err)
			}
		}
	} else {
		if err := attachTC(rec.HostIfIndex, rec.PodUID, p.IsolateFromPod, p.IsolateToPod); err != nil {
			return err
		}
		if err := detachPins(rec.PodUID, "tcx_"); err != nil {
			iso.log.Warn("remove tcx links after switch to tc", "pod_uid", rec.PodUID, "err", err)
		}
	}
	if prevIndex != 0 && prevIndex != rec.HostIfIndex && linkExists(prevIndex) && hasTC(prevIndex, rec.PodUID) {
		if err := detachTC(prevIndex); err != nil {
			iso.log.Warn("remove filters from previous veth", "pod_uid", rec.PodUID, "ifindex", prevIndex, "err", err)
		}
	}
	return nil
}

// Release lifts the pod's isolation: it removes the filters (and the
// clsact qdisc when nothing else uses it) or the pinned cgroup links, and
// forgets the record. A pod found only in the kernel is released too;
// ErrNotIsolated means nothing was found.
func (iso *Isolator) Release(podUID string) error {
	iso.mu.Lock()
	defer iso.mu.Unlock()
	rec, had := iso.recs[podUID]
	found, err := iso.removeKernel(podUID, rec)
	if err != nil {
		return fmt.Errorf("release pod %s: %w", podUID, err)
	}
	if !had && !found {
		return fmt.Errorf("release pod %s: %w", podUID, ErrNotIsolated)
	}
	if had {
		delete(iso.recs, podUID)
		if err := saveState(iso.dir, iso.recs, iso.key); err != nil {
			return err
		}
	}
	iso.log.Info("pod isolation released", "pod_uid", podUID, "pod", rec.PodName, "namespace", rec.Namespace)
	return nil
}

// removeKernel removes every podguard isolation of the pod: on the recorded
// link, on any host link whose filter names the pod, and its pins.
func (iso *Isolator) removeKernel(podUID string, rec Record) (bool, error) {
	att, err := Installed()
	if err != nil {
		return false, err
	}
	found := false
	var errs []error
	for _, a := range att {
		if a.PodUID != podUID {
			continue
		}
		found = true
		if a.PinPath != "" {
			errs = append(errs, detachPins(podUID, ""))
		} else {
			errs = append(errs, detachTC(a.IfIndex))
		}
	}
	if rec.HostIfIndex != 0 && linkExists(rec.HostIfIndex) && hasTC(rec.HostIfIndex, podUID) {
		errs = append(errs, detachTC(rec.HostIfIndex))
	}
	return found, errors.Join(errs...)
}

// Rejected returns the records of the state file that failed their
// integrity check when this Isolator started: reported, never acted on.
func (iso *Isolator) Rejected() []Record {
	iso.mu.Lock()
	defer iso.mu.Unlock()
	return append([]Record(nil), iso.rejected...)
}

// List returns the isolated pods, ordered by pod UID.
func (iso *Isolator) List() []Record {
	iso.mu.Lock()
	defer iso.mu.Unlock()
	return sortedRecords(iso.recs)
}

// Installed finds podguard isolation in the kernel, without the state file:
// tc filters named FilterName on any host link, and pinned tcx and cgroup
// links under PinDir.
func Installed() ([]Attachment, error) {
	tc, err := installedTC()
	if err != nil {
		return nil, err
	}
	cg, err := installedPins()
	if err != nil {
		return nil, err
	}
	return append(tc, cg...), nil
}
