package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/podguard/podguard/test/node"
	"github.com/podguard/podguard/test/testbin"
)

// Profile is perf's flat profile of podguard during one storm.
type Profile struct {
	Workload string
	Samples  string   // perf's sample count line
	Top      []string // "percent symbol" lines, highest first
	Stages   []string // inclusive percent of the pipeline's stages
}

// profileStages are the entry points whose inclusive time says where the
// CPU goes, in pipeline order.
var profileStages = []struct{ sym, what string }{
	{"probes.(*Probes).read", "ring buffer reader goroutine"},
	{"ringbuf.(*Reader).ReadInto", "reading the ring, including epoll waits"},
	{"probes.(*Probes).deliver", "decode and queue"},
	{"detect.(*pipeline).handle", "rule pipeline (on the reader goroutine)"},
	{"engine.(*Engine).Handle", "rule evaluation"},
	{"workload.(*Resolver).Resolve", "cgroup to pod"},
	{"events.(*Writer).Run", "event output"},
	{"runtime.gcBgMarkWorker", "garbage collector"},
	{"runtime.mallocgc", "allocation"},
	{"runtime.sysmon", "runtime monitor thread"},
	{"runtime.schedule", "goroutine scheduler"},
}

// Profile runs perf record on an unstripped podguard during an unpaced
// open storm and an exec storm, and keeps the top symbols by self time.
func (h *Harness) Profile() {
	if _, err := exec.LookPath("perf"); err != nil {
		h.T.Log("perf not installed: no profile")
		return
	}
	bin, err := testbin.Binary(testbin.Podguard, testbin.Trimpath()) // not stripped
	if err != nil {
		h.R.note(fmt.Sprintf("no profile: build podguard with symbols: %v", err))
		h.T.Logf("build podguard with symbols: %v", err)
		return
	}
	pg := &Podguard{Bin: bin, Dir: filepath.Join(h.Dir, "pgprof"), Containerd: h.PG.Containerd}
	p := h.N.CreatePod(h.T, node.PodSpec{Name: "prof", Labels: map[string]string{"bench": "storm"},
		Containers: []node.ContainerSpec{{Name: "app"}}})
	h.exec(p, "app", "touch", "/dev/shm/bench-file")
	tg := newTarget(p, "app")
	for _, w := range []Workload{
		{"open storm, 0% matching, unpaced", "open", Spec{Kind: "open", N: h.pick(400000, 20000), Path: "/dev/shm/bench-file"}},
		{"exec storm", "exec", Spec{Kind: "exec", N: h.pick(2000, 100), Path: "/bin/true"}},
	} {
		if err := pg.Start(tg.CgID); err != nil {
			h.T.Fatal(err)
		}
		data := filepath.Join(h.Dir, "perf.data")
		rec := exec.Command("perf", "record", "-q", "-F", "1999", "-g", "-o", data, "-p", fmt.Sprint(pg.PIDs()[0]))
		var log bytes.Buffer
		rec.Stderr = &log
		if err := rec.Start(); err != nil {
			h.T.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if _, err := tg.Run(w.Spec); err != nil {
			h.T.Fatal(err)
		}
		drain(pg, w.Kind, 400*time.Millisecond, 30*time.Second)
		stopCmd(rec, syscall.SIGINT, 20*time.Second)
		pg.Stop()
		if keep := os.Getenv("BENCH_PERF_DIR"); keep != "" {
			exec.Command("cp", data, filepath.Join(keep, "perf-"+w.Kind+".data")).Run()
			exec.Command("cp", bin, filepath.Join(keep, "podguard-syms")).Run()
		}
		rep, err := exec.Command("perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "symbol", "-g", "none", "--percent-limit", "1.5").Output()
		if err != nil {
			h.T.Logf("perf report: %v (%s)", err, log.String())
			continue
		}
		pr := Profile{Workload: w.Name}
		sc := bufio.NewScanner(bytes.NewReader(rep))
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			switch {
			case strings.HasPrefix(l, "# Samples:"):
				pr.Samples = strings.TrimPrefix(l, "# ")
			case l == "" || strings.HasPrefix(l, "#"):
			case len(pr.Top) < 20:
				pr.Top = append(pr.Top, strings.Join(strings.Fields(l), " "))
			}
		}
		// Inclusive time of the pipeline's stages and the runtime's own work.
		if rep, err := exec.Command("perf", "report", "-i", data, "--stdio", "--children", "--sort", "symbol", "-g", "none").Output(); err == nil {
			sc := bufio.NewScanner(bytes.NewReader(rep))
			seen := map[string]bool{}
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) < 4 || strings.HasPrefix(f[0], "#") {
					continue
				}
				sym := f[3]
				for _, stage := range profileStages {
					if strings.HasSuffix(sym, stage.sym) && !seen[stage.sym] {
						seen[stage.sym] = true
						pr.Stages = append(pr.Stages, fmt.Sprintf("%s %s (%s)", f[0], stage.sym, stage.what))
					}
				}
			}
		}
		h.T.Logf("profile %s: %s\n%s\n%s", w.Name, pr.Samples, strings.Join(pr.Stages, "\n"), strings.Join(pr.Top, "\n"))
		h.R.Profiles = append(h.R.Profiles, pr)
	}
	p.Delete(h.T)
}
