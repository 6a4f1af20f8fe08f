package bench

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// childEnv carries a Spec to a workload child (the test binary run again).
const childEnv = "PODGUARD_BENCH_CHILD"

// benchLoginUID is the audit login uid every workload child takes, so that
// auditd's rules can select the workload (-F auid=) the way podguard and
// bpftrace select its cgroup.
const benchLoginUID = 4242

// Spec is one workload run.
type Spec struct {
	Kind    string  `json:"kind"` // exec | open | connect | flood
	N       int64   `json:"n"`    // operations in total (exec, open, connect)
	Rate    float64 `json:"rate"` // operations per second in total; 0 = as fast as possible
	Threads int     `json:"threads"`
	Path    string  `json:"path"`  // exec: binary; open: file; flood: file opened as the trigger
	Root    string  `json:"root"`  // chroot before the work (the container's root)
	NetNS   string  `json:"netns"` // network namespace of the work (the pod's)
	Addr    string  `json:"addr"`  // connect, flood: ip:port
	// flood: send for Duration, open Path once after TriggerAfter.
	Duration     time.Duration `json:"duration"`
	TriggerAfter time.Duration `json:"trigger_after"`
}

// Result is what a workload child did, counted by itself.
type Result struct {
	Ops       int64  `json:"ops"`
	Errors    int64  `json:"errors"`
	FirstErr  string `json:"first_err,omitempty"`
	StartNs   int64  `json:"start_ns"` // CLOCK_REALTIME
	EndNs     int64  `json:"end_ns"`
	TriggerNs int64  `json:"trigger_ns,omitempty"` // flood: CLOCK_REALTIME just before the trigger open
	PID       int    `json:"pid"`
}

// Elapsed is the wall time of the work.
func (r Result) Elapsed() time.Duration { return time.Duration(r.EndNs - r.StartNs) }

// RunChild runs the workload described in the environment, if any, prints
// its Result as JSON and reports true; the caller then exits.
func RunChild() bool {
	js := os.Getenv(childEnv)
	if js == "" {
		return false
	}
	var s Spec
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		fmt.Fprintln(os.Stderr, "bad spec:", err)
		os.Exit(2)
	}
	res, err := s.run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "workload:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(res)
	return true
}

func (s Spec) run() (Result, error) {
	res := Result{PID: os.Getpid()}
	var nsfd int = -1
	if s.NetNS != "" {
		fd, err := unix.Open(s.NetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return res, fmt.Errorf("open netns: %w", err)
		}
		nsfd = fd
	}
	if s.Root != "" {
		if err := unix.Chroot(s.Root); err != nil {
			return res, fmt.Errorf("chroot %s: %w", s.Root, err)
		}
		if err := unix.Chdir("/"); err != nil {
			return res, err
		}
	}
	if s.Threads < 1 {
		s.Threads = 1
	}
	var op func(w *worker) error
	switch s.Kind {
	case "exec":
		op = func(*worker) error { return execOnce(s.Path) }
	case "open":
		op = func(*worker) error {
			fd, err := unix.Open(s.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			return unix.Close(fd)
		}
	case "connect":
		ap, err := netip.ParseAddrPort(s.Addr)
		if err != nil {
			return res, err
		}
		sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
		op = func(w *worker) error { return unix.Connect(w.fd, sa) }
	case "kill":
		// kill(self, 0): the cheapest syscall podguard delivers to its
		// rules (podguard-tamper watches kill), for the pipeline's ceiling.
		pid := unix.Getpid()
		op = func(*worker) error { return unix.Kill(pid, 0) }
	case "flood":
		return s.flood(nsfd)
	default:
		return res, fmt.Errorf("unknown workload %q", s.Kind)
	}
	var ops, errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	ready := make(chan error, s.Threads)
	startGate := make(chan struct{})
	for i := 0; i < s.Threads; i++ {
		n := s.N / int64(s.Threads)
		if i == 0 {
			n += s.N % int64(s.Threads)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: the thread may be in the pod's netns
			w := &worker{fd: -1}
			if err := w.setup(s.Kind, nsfd); err != nil {
				ready <- err
				return
			}
			ready <- nil
			<-startGate
			rate := s.Rate / float64(s.Threads)
			begin := time.Now()
			for j := int64(0); j < n; j++ {
				if rate > 0 && j%8 == 0 {
					pace(begin, j, rate)
				}
				if err := op(w); err != nil {
					if errs.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
				}
				ops.Add(1)
			}
		}()
	}
	for i := 0; i < s.Threads; i++ {
		if err := <-ready; err != nil {
			return res, err
		}
	}
	res.StartNs = time.Now().UnixNano()
	close(startGate)
	wg.Wait()
	res.EndNs = time.Now().UnixNano()
	res.Ops, res.Errors = ops.Load(), errs.Load()
	if v, ok := firstErr.Load().(string); ok {
		res.FirstErr = v
	}
	return res, nil
}

type worker struct{ fd int }

func (w *worker) setup(kind string, nsfd int) error {
	if nsfd >= 0 {
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("setns: %w", err)
		}
	}
	if kind == "connect" {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		w.fd = fd
	}
	return nil
}

// pace waits until op j of a run at rate ops/s that began at begin is due.
func pace(begin time.Time, j int64, rate float64) {
	due := begin.Add(time.Duration(float64(j) / rate * float64(time.Second)))
	for {
		left := time.Until(due)
		if left <= 0 {
			return
		}
		if left > 300*time.Microsecond {
			time.Sleep(left - 200*time.Microsecond)
		}
	}
}

var execAttr = &syscall.ProcAttr{Env: []string{}}

// execOnce forks, executes path and waits for it.
func execOnce(path string) error {
	pid, err := syscall.ForkExec(path, []string{"true"}, execAttr)
	if err != nil {
		return err
	}
	var ws syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return err
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return fmt.Errorf("%s: %v", path, ws)
	}
	return nil
}

// flood sends numbered UDP datagrams to Addr from the pod's netns at Rate
// for Duration and opens Path once after TriggerAfter.
func (s Spec) flood(nsfd int) (Result, error) {
	res := Result{PID: os.Getpid()}
	runtime.LockOSThread()
	w := &worker{fd: -1}
	if err := w.setup("connect", nsfd); err != nil {
		return res, err
	}
	ap, err := netip.ParseAddrPort(s.Addr)
	if err != nil {
		return res, err
	}
	if err := unix.Connect(w.fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		return res, fmt.Errorf("connect %s: %w", s.Addr, err)
	}
	var buf [16]byte
	begin := time.Now()
	res.StartNs = begin.UnixNano()
	triggered := false
	for j := int64(0); ; j++ {
		now := time.Now()
		if now.Sub(begin) >= s.Duration {
			break
		}
		if !triggered && now.Sub(begin) >= s.TriggerAfter {
			triggered = true
			res.TriggerNs = time.Now().UnixNano()
			if fd, err := unix.Open(s.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
				unix.Close(fd)
			}
		}
		if s.Rate > 0 {
			pace(begin, j, s.Rate)
		}
		binary.LittleEndian.PutUint64(buf[:], uint64(j))
		binary.LittleEndian.PutUint64(buf[8:], uint64(time.Now().UnixNano()))
		if _, err := unix.Write(w.fd, buf[:]); err != nil {
			if res.Errors++; res.FirstErr == "" {
				res.FirstErr = err.Error()
			}
		}
		res.Ops++
	}
	res.EndNs = time.Now().UnixNano()
	return res, nil
}
