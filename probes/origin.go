package probes

// Origin is where an executed file comes from, decided in the kernel on
// the file it loaded (bprm->file), never on a path string or a name.
// Values match bpf/common.h enum exe_origin (copy-up is OriginUpper with
// Record.CopiedUp).
type Origin uint8

// Origins.
const (
	// OriginUnknown: not on an overlay, in a task whose root is not an
	// overlay either (a runtime before it entered the container's root,
	// or a container on another snapshotter): the image is not known.
	OriginUnknown Origin = 0
	// OriginImage: an overlay file served from a lower (image) layer,
	// never written in the container.
	OriginImage Origin = 1
	// OriginUpper: an overlay file on the upper layer: written in the
	// container (a new file, or an image file copied up by a write or
	// chmod).
	OriginUpper Origin = 2
	// OriginTmpfs: a tmpfs file (emptyDir medium Memory, a tmpfs mount).
	OriginTmpfs Origin = 4
	// OriginMemfd: a memfd_create file.
	OriginMemfd Origin = 5
	// OriginTmpfile: a file with no links: O_TMPFILE, or deleted before
	// the exec (execveat of an open fd).
	OriginTmpfile Origin = 6
	// OriginHost: another file system below a container's overlay root:
	// a volume (hostPath, emptyDir on disk, configMap, PVC).
	OriginHost Origin = 7
)

// kernel value of a copied-up upper file (ORIGIN_COPYUP)
const originCopyUp = 3

var originNames = [...]string{
	OriginUnknown: "unknown", OriginImage: "image", OriginUpper: "upper", originCopyUp: "upper",
	OriginTmpfs: "tmpfs", OriginMemfd: "memfd", OriginTmpfile: "tmpfile", OriginHost: "host",
}

func (o Origin) String() string {
	if int(o) < len(originNames) {
		return originNames[o]
	}
	return "origin(" + itoa(uint64(o)) + ")"
}

// Drift reports whether a file of this origin is not an unmodified image
// file: what the container-drift rule and the in-kernel drift kill judge.
func (o Origin) Drift() bool { return o != OriginImage && o != OriginUnknown }

// originOf decodes the kernel's origin byte.
func originOf(v uint8) (Origin, bool) {
	if v == originCopyUp {
		return OriginUpper, true
	}
	return Origin(v), false
}
