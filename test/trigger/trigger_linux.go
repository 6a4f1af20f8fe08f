package trigger

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
)

// action is one named kernel action; args are what follows its name.
type action struct {
	usage string
	run   func(args []string) error
	nargs int // the least number of arguments
}

// actions are the actions by name. Paths are as the caller passes them
// (relative ones against the working directory); a marker is a file written
// after the dangerous step, so that on disk it says the process ran past a
// kill.
var actions = map[string]action{
	// files (files_linux.go)
	"open-rel":           {"<rel>: openat(AT_FDCWD, rel, O_CREAT|O_WRONLY, 0640)", openRel, 1},
	"open-dirfd":         {"<dir> <name>: openat(open(dir), name, O_CREAT|O_RDWR, 0600)", openDirfd, 2},
	"openat2":            {"<path>: openat2(AT_FDCWD, path, O_RDONLY|O_CLOEXEC)", openat2, 1},
	"creat":              {"<path>: creat(path, 0604)", creat, 1},
	"files":              {": mkdir d, create d/a, rename, link, symlink, chmod 4755, fchmod, unlink, in the working directory", files, 0},
	"open-read":          {"<path>...: open(path, O_RDONLY) each; failures are fine", openRead, 0},
	"open-write":         {"<path>...: open(path, O_WRONLY|O_CREAT, 0600) each; failures are fine", openWrite, 0},
	"storm-open":         {"<path> <n>: open and close path n times", stormOpen, 2},
	"storm-open-threads": {"<path> <n>: openat path.0 … path.(n-1) while four threads tgkill(0) and sleep", stormOpenThreads, 2},
	"marker":             {"<path>: write the marker", func(a []string) error { return marker(a[0]) }, 1},
	// aliases and unfaulted arguments (aliases_linux.go)
	"open-unfaulted":    {"<path>: openat(path) with the path in never-touched memory", openUnfaulted, 1},
	"open-dirfd-read":   {"<dir> <name>: openat(open(dir), name, O_RDONLY)", openDirfdRead, 2},
	"reopen":            {"<path>: open(path, O_PATH), then open /proc/self/fd/N for reading", reopen, 1},
	"open-handle":       {"<path>: name_to_handle_at + open_by_handle_at; EPERM is fine", openHandle, 1},
	"connect-unfaulted": {"<ipv4> <port>: TCP connect with the sockaddr in never-touched memory", connectUnfaulted, 2},
	"sendto-unfaulted":  {"<ipv4> <port>: UDP sendto without connect, the sockaddr in never-touched memory", sendtoUnfaulted, 2},
	// network (net_linux.go)
	"connect":    {"inet|inet6|<unix path>: connect in a new, empty network namespace", connect, 1},
	"tcp":        {"<ipv4> <port> [refused]: TCP connect; with refused it must be refused, else any answer will do", tcp, 2},
	"dup-socket": {": dup2 an AF_INET socket onto stdin", dupSocket, 0},
	"revshell":   {"<marker>: exec /bin/sh -c 'touch marker' with an inet socket on stdin", revshell, 1},
	// processes and privileges (process_linux.go)
	"ptrace":        {"<marker>: PTRACE_ATTACH to a child, then the marker", ptrace, 1},
	"module":        {"<marker>: init_module and finit_module, then the marker", module, 1},
	"unshare":       {"<marker>: unshare(CLONE_NEWUTS), then the marker", unshare, 1},
	"setns":         {": setns into our own UTS namespace", setns, 0},
	"memfd-exec":    {"<marker>: copy this program into memfd pgtest and execveat it as `marker <marker>`", memfdExec, 1},
	"misc":          {"<dir>: bpf, process_vm_writev, memfd_create, kill, tgkill, mount and umount on dir (private mount ns), setresgid", misc, 1},
	"bpf-prog-load": {": bpf(BPF_PROG_LOAD) with no attributes (EFAULT, seen at entry)", bpfProgLoad, 0},
	"setuid0":       {": drop to nobody, then setuid(0) (EPERM)", setuid0, 0},
	"storm-exec":    {"<n>: run /bin/busybox true n times", stormExec, 1},
}

// Then separates the actions of one invocation: they run in order in one
// process (one pid for the probes), stopping at the first error.
const Then = "then"

// Has reports whether name is an action.
func Has(name string) bool {
	_, ok := actions[name]
	return ok
}

// Actions lists the actions with their arguments, one a line.
func Actions() string {
	var lines []string
	for name := range actions {
		lines = append(lines, usage(name))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Main runs args (an action, its arguments, and more actions after Then)
// and returns the exit code: 0, or 2 with the error on stderr.
func Main(args []string) int {
	if err := Run(args); err != nil {
		fmt.Fprintln(os.Stderr, "trigger:", err)
		return 2
	}
	return 0
}

// Run runs args as Main does and returns the first error.
func Run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: trigger <action> [args...] [then <action> [args...]]...\nactions:\n%s", Actions())
	}
	var steps [][]string
	for i := slices.Index(args, Then); i >= 0; i = slices.Index(args, Then) {
		steps, args = append(steps, args[:i]), args[i+1:]
	}
	for _, step := range append(steps, args) {
		if len(step) == 0 {
			return fmt.Errorf("empty action around %q", Then)
		}
		a, ok := actions[step[0]]
		if !ok {
			return fmt.Errorf("unknown action %q", step[0])
		}
		if len(step)-1 < a.nargs {
			return fmt.Errorf("usage: %s", usage(step[0]))
		}
		if err := a.run(step[1:]); err != nil {
			return fmt.Errorf("%s: %w", step[0], err)
		}
	}
	return nil
}

// usage is "name <args>: what it does".
func usage(name string) string {
	if u := actions[name].usage; !strings.HasPrefix(u, ":") {
		return name + " " + u
	}
	return name + actions[name].usage
}

func marker(path string) error { return os.WriteFile(path, []byte("ran\n"), 0o644) }
