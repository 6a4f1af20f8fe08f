package workload

import (
	"path"
	"strings"
)

// CgroupDir turns an OCI linux.cgroupsPath into the cgroup directory it
// names, relative to a hierarchy's mount point. It understands cgroupfs paths
// ("/kubepods/besteffort/pod<uid>/<id>") and runc's systemd form
// "slice:prefix:name" ("kubepods-besteffort-pod<uid>.slice:cri-containerd:<id>"
// → "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope").
func CgroupDir(cgroupsPath string) string {
	if cgroupsPath == "" {
		return ""
	}
	parts := strings.Split(cgroupsPath, ":")
	if len(parts) != 3 || strings.HasPrefix(cgroupsPath, "/") {
		return path.Clean("/" + cgroupsPath)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = "system.slice"
	}
	unit := name
	if !strings.HasSuffix(name, ".slice") {
		if prefix != "" {
			unit = prefix + "-" + name
		}
		unit += ".scope"
	}
	return path.Join(expandSlice(slice), unit)
}

// expandSlice turns a systemd slice name into its path:
// "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice", "-.slice" → "/".
func expandSlice(slice string) string {
	name := strings.TrimSuffix(slice, ".slice")
	if name == "-" || name == "" {
		return "/"
	}
	var b strings.Builder
	prefix := ""
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			continue
		}
		b.WriteString("/" + prefix + part + ".slice")
		prefix += part + "-"
	}
	return b.String()
}

// ContainerIDFromPath finds a container id (64 hex characters) in a cgroup
// path, innermost first. It knows the plain cgroupfs form ("/…/<id>") and
// systemd scopes ("cri-containerd-<id>.scope", "docker-<id>.scope",
// "crio-<id>.scope"). It returns "" when the path names no container.
func ContainerIDFromPath(p string) string {
	elems := strings.Split(p, "/")
	for i := len(elems) - 1; i >= 0; i-- {
		e := strings.TrimSuffix(elems[i], ".scope")
		if j := strings.LastIndexAny(e, "-:"); j >= 0 {
			e = e[j+1:]
		}
		if isContainerID(e) {
			return e
		}
	}
	return ""
}

func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// PodUIDFromPath finds a kubelet pod UID in a cgroup path, from either
// "pod<uid>" (cgroupfs) or "kubepods-<qos>-pod<uid_with_underscores>.slice"
// (systemd). It returns "" when there is none.
func PodUIDFromPath(p string) string {
	elems := strings.Split(p, "/")
	for i := len(elems) - 1; i >= 0; i-- {
		e := strings.TrimSuffix(elems[i], ".slice")
		j := strings.LastIndex(e, "pod")
		if j < 0 || (j > 0 && e[j-1] != '-') {
			continue
		}
		uid := strings.ReplaceAll(e[j+3:], "_", "-")
		if len(uid) == 36 && strings.Count(uid, "-") == 4 {
			return uid
		}
	}
	return ""
}

// ProcCgroup is the content of /proc/<pid>/cgroup.
type ProcCgroup struct {
	// V2 is the path in the cgroup v2 hierarchy (the "0::" line); "" when
	// the host has no v2 hierarchy.
	V2 string
	// HasV2 tells whether there was a "0::" line at all.
	HasV2 bool
	// V1 maps each v1 controller (or "name=systemd") to its path.
	V1 map[string]string
}

// ParseProcCgroup parses /proc/<pid>/cgroup in v1, v2 or hybrid form.
func ParseProcCgroup(data string) ProcCgroup {
	pc := ProcCgroup{V1: map[string]string{}}
	for _, line := range strings.Split(data, "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		controllers, p, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		if id == "0" && controllers == "" {
			pc.V2, pc.HasV2 = p, true
			continue
		}
		for _, c := range strings.Split(controllers, ",") {
			if c != "" {
				pc.V1[c] = p
			}
		}
	}
	return pc
}

// v1Preference is the order in which v1 hierarchies are asked for a
// container's path on v1-only hosts.
var v1Preference = []string{"pids", "memory", "cpu", "cpuacct", "devices", "freezer", "name=systemd"}

// ContainerPath returns the path that identifies the process's container:
// the v2 path when the host has a v2 hierarchy (useV2), otherwise the first
// v1 path that names a container.
func (pc ProcCgroup) ContainerPath(useV2 bool) string {
	if useV2 {
		return pc.V2
	}
	for _, c := range v1Preference {
		if p, ok := pc.V1[c]; ok && ContainerIDFromPath(p) != "" {
			return p
		}
	}
	for _, p := range pc.V1 {
		if ContainerIDFromPath(p) != "" {
			return p
		}
	}
	for _, c := range v1Preference {
		if p, ok := pc.V1[c]; ok {
			return p
		}
	}
	return ""
}
