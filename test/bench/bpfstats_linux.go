package bench

import (
	"errors"
	"slices"
	"time"

	"github.com/cilium/ebpf"
)

// maxProgramID is the highest id of a loaded BPF program (ids only grow).
func maxProgramID() ebpf.ProgramID {
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			return id
		}
		id = next
	}
}

// programsAfter opens the programs named name loaded after id.
func programsAfter(id ebpf.ProgramID, names ...string) []*ebpf.Program {
	var out []*ebpf.Program
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			return out
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		if info, err := p.Info(); err == nil && slices.Contains(names, info.Name) {
			out = append(out, p)
			continue
		}
		p.Close()
	}
}

// runStats sums the run time and run count of programs (needs
// ebpf.EnableStats; tail-called programs count in their caller).
func runStats(progs []*ebpf.Program) (time.Duration, uint64, error) {
	var rt time.Duration
	var n uint64
	for _, p := range progs {
		s, err := p.Stats()
		if err != nil {
			return 0, 0, err
		}
		rt += s.Runtime
		n += s.RunCount
	}
	if len(progs) == 0 {
		return 0, 0, errors.New("no program")
	}
	return rt, n, nil
}
