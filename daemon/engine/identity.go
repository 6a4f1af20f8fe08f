package engine

import (
	"strconv"
	"strings"

	"github.com/podguard/podguard/probes"
)

// What ran is judged two ways. Detection (Ctx.is) casts a wide net over
// every name a program goes by, and over what a multi-call binary or the
// dynamic loader will really run, so that renamed tools and `busybox nc`
// are still seen. Exemption (Ctx.exempt) switches a rule off, so it holds
// only for the executed file itself: an unmodified image file (origin
// from the kernel) whose resolved path names the tool. A symlink named
// sshd to busybox, or an upper-layer file named apk, exempts nothing.

// multiCall are the multi-call binaries that run the applet named by
// argv[0], or by argv[1] when argv[0] is their own name.
var multiCall = []string{"busybox", "toybox"}

// names are the names a process goes by: comm, the executed file's and
// argv[0]'s base names, and the program it will run when it is a
// multi-call binary called by its own name (busybox sh) or the dynamic
// loader given a program (ld.so /bin/sh).
func (c *Ctx) names() [4]string {
	p := c.Proc
	var n [4]string
	n[0] = p.Comm
	n[1] = base(p.Exe)
	if len(p.Args) > 0 {
		n[2] = base(p.Args[0])
	}
	n[3] = base(p.runsProgram())
	return n
}

// runsProgram returns what a multi-call binary or the dynamic loader
// will run on the process's behalf, "" for any other program.
func (p *Proc) runsProgram() string {
	if prog, ok := p.loaderProgram(); ok {
		return prog
	}
	if len(p.Args) < 2 {
		return ""
	}
	for _, m := range multiCall {
		if strings.HasPrefix(base(p.Args[0]), m) {
			return p.Args[1]
		}
	}
	return ""
}

// isLoader reports whether path is a dynamic loader (ld.so) by its
// file name: glibc's ld-linux*.so.N / ld64.so.N, musl's ld-musl-*.so.1.
func isLoader(path string) bool {
	b := base(path)
	return strings.HasPrefix(b, "ld-linux") || strings.HasPrefix(b, "ld-musl-") ||
		strings.HasPrefix(b, "ld64.so") || b == "ld.so" || strings.HasPrefix(b, "ld.so.")
}

// loaderValueOpts are ld.so options that take the next argument.
var loaderValueOpts = set("--library-path", "--inhibit-rpath", "--audit", "--preload", "--argv0", "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask")

// loaderProgram returns the program the dynamic loader was asked to run
// (its first argument that is not an option), when the executed file is
// a loader run directly (not as the interpreter of a program: then the
// kernel reports the program itself).
func (p *Proc) loaderProgram() (string, bool) {
	if !isLoader(p.Exe) {
		return "", false
	}
	for i := 1; i < len(p.Args); i++ {
		a := p.Args[i]
		switch {
		case loaderValueOpts[a]:
			i++
		case strings.HasPrefix(a, "--"):
		default:
			return a, true
		}
	}
	return "", false
}

// runs reports whether the process runs an unmodified image file whose
// resolved path names a tool in set: the only test an exemption may use.
func (p *Proc) runs(set map[string]bool) bool {
	return p.Origin == probes.OriginImage && p.Exe != "" && set[base(p.Exe)]
}

// exempt reports whether the process is one of the tools in set by its
// executed file (see runs), for conditions that switch a rule off.
func (c *Ctx) exempt(set map[string]bool) bool { return c.Proc.runs(set) }

// identity is the executed file as put on every exec-rule event: path,
// origin, device and inode.
func (p *Proc) identity() Details {
	d := Details{"exe": p.Exe, "origin": p.Origin.String()}
	if p.CopiedUp {
		d["copied_up"] = true
	}
	if p.ExeIno != 0 {
		d["inode"] = p.ExeIno
		d["device"] = devString(p.ExeDev)
	}
	return d
}

// devString prints a kernel dev_t (major<<20 | minor) as major:minor.
func devString(dev uint32) string {
	return strconv.FormatUint(uint64(dev>>20), 10) + ":" + strconv.FormatUint(uint64(dev&(1<<20-1)), 10)
}

var netcats = set("nc", "ncat", "netcat", "nc.openbsd", "nc.traditional")

// withIdentity adds the executed file's identity to d.
func withIdentity(d Details, p *Proc) Details {
	for k, v := range p.identity() {
		d[k] = v
	}
	return d
}

// stdioNames lists the standard fds that were inet sockets at exec.
func stdioNames(bits uint8) []string {
	var out []string
	for i, n := range []string{"stdin", "stdout", "stderr"} {
		if bits&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}
