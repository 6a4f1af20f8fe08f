package probes

import (
	"errors"
	"fmt"
	"strings"
)

// OpenFilter says which opens the kernel emits once installed with
// Probes.SetOpenFilter (without one, every open of a watched cgroup is
// emitted). An open passes when it asks for writing (O_WRONLY, O_RDWR,
// O_CREAT or O_TRUNC), or when its path starts with one of PathPrefixes
// or its basename with one of BasePrefixes. The path is the one the
// kernel resolved from the opened file at syscall exit (the task's view,
// absolute, canonical: no "//", ".", "..", symlinks or /proc/self/root
// left), so an alias of a watched file cannot slip past the filter; a
// path the kernel cut (FlagTruncated) always passes, and so do a
// refused attempt (EACCES, EPERM, ETXTBSY) and every open_by_handle_at,
// which are not filtered. Any other failed open has no file: it is judged
// on its raw path string, as Passes does (a relative one passes). Passes is the
// Go mirror of the kernel's predicate (probes/bpf/openfilter.h).
type OpenFilter struct {
	PathPrefixes []string // each starts with '/'
	BasePrefixes []string // each without '/'
}

// OpenPrefixMax is the longest prefix a filter holds (bytes). The kernel
// judges paths up to this long; longer ones always pass.
const OpenPrefixMax = openKeyData - 2

const (
	openKeyData  = 256 // LPM_DATA_SIZE_MAX: generation byte + path
	openWFlags   = 0x1 | 0x2 | 0x40 | 0x200
	errPrefixFmt = "open filter: %s prefix %q: %w"
)

var errBadPrefix = errors.New("must be 1 to 254 bytes, path prefixes starting with '/', basename prefixes without '/', no NUL")

// Validate checks the prefixes the kernel can hold.
func (f *OpenFilter) Validate() error {
	for _, p := range f.PathPrefixes {
		if len(p) == 0 || len(p) > OpenPrefixMax || p[0] != '/' || strings.IndexByte(p, 0) >= 0 {
			return fmt.Errorf(errPrefixFmt, "path", p, errBadPrefix)
		}
	}
	for _, p := range f.BasePrefixes {
		if len(p) == 0 || len(p) > OpenPrefixMax || strings.ContainsAny(p, "/\x00") {
			return fmt.Errorf(errPrefixFmt, "basename", p, errBadPrefix)
		}
	}
	return nil
}

// dirs returns every directory above a path prefix, with its '/' ("/",
// "/etc/", ...; a prefix ending in '/' is one itself): the directories
// that lead to a watched path. The kernel caches as quiet only a
// directory that is none of these and that no path prefix covers, and
// judges a read-only open in a quiet one on its basename alone.
func (f *OpenFilter) dirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range f.PathPrefixes {
		for i := 0; i < len(p); i++ {
			if p[i] == '/' && !seen[p[:i+1]] {
				seen[p[:i+1]] = true
				out = append(out, p[:i+1])
			}
		}
	}
	return out
}

// Passes reports whether the kernel, with f installed, emits an open of
// rawPath (the resolved path of the opened file) with these flags. A nil
// filter passes everything. The kernel also passes an open whose path it
// cannot read.
func (f *OpenFilter) Passes(rawPath string, flags uint32) bool {
	if f == nil || flags&openWFlags != 0 {
		return true
	}
	if i := strings.IndexByte(rawPath, 0); i >= 0 {
		rawPath = rawPath[:i]
	}
	n := len(rawPath)
	if n == 0 || rawPath[0] != '/' || n > OpenPrefixMax-1 || rawPath[n-1] == '/' {
		return true // relative, empty, too long to judge, or a trailing '/'
	}
	for _, p := range f.PathPrefixes {
		if strings.HasPrefix(rawPath, p) {
			return true
		}
	}
	base := rawPath[strings.LastIndexByte(rawPath, '/')+1:]
	for _, p := range f.BasePrefixes {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	return false
}

// Prefixes is the number of prefixes in f.
func (f *OpenFilter) Prefixes() int {
	if f == nil {
		return 0
	}
	return len(f.PathPrefixes) + len(f.BasePrefixes)
}
