package pkgbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/rpm"
)

// Options says what to package and where to write it.
type Options struct {
	// Binary is the built static podguard binary.
	Binary string
	// Version is the release version, e.g. "1.4.0" or "v1.4.0"; anything
	// else (a git describe like "e01c38c-dirty") becomes a pre-release of
	// 0.0.0 that sorts before every real release.
	Version string
	// Repo is the repository root (unit, rulesets, config template, scripts).
	Repo string
	// Out is the directory the packages are written to; it is created.
	Out string
	// Formats limits the output to some of "deb", "rpm", "tar"; empty
	// means all three.
	Formats []string
}

// Result names the files written.
type Result struct {
	Deb, RPM, Tar string
}

// Metadata of every package.
const (
	Name        = "podguard"
	Maintainer  = "podguard maintainers <maintainers@podguard.dev>"
	Homepage    = "https://github.com/podguard/podguard"
	License     = "Apache-2.0"
	Summary     = "Runtime security for Kubernetes nodes"
	Description = `Runtime security for Kubernetes nodes.
podguard attaches eBPF probes to the kernel, maps each event to its
containerd container and Kubernetes pod, applies the TOML rulesets that
select the pod, and logs the event, isolates the pod's network or
terminates the pod. One static binary run by systemd; no dependencies.`
)

// Build writes the .deb, the .rpm and the .tar.gz into o.Out.
func Build(o Options) (Result, error) {
	var r Result
	es, err := layout(o)
	if err != nil {
		return r, err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return r, fmt.Errorf("output dir: %w", err)
	}
	want := func(f string) bool { return len(o.Formats) == 0 || slices.Contains(o.Formats, f) }
	for _, f := range o.Formats {
		if f != "deb" && f != "rpm" && f != "tar" {
			return r, fmt.Errorf("unknown package format %q (deb, rpm, tar)", f)
		}
	}
	if want("deb") {
		if r.Deb, err = writeNFPM(o, es, "deb"); err != nil {
			return r, err
		}
	}
	if want("rpm") {
		if r.RPM, err = writeNFPM(o, es, "rpm"); err != nil {
			return r, err
		}
	}
	if want("tar") {
		if r.Tar, err = writeTar(o, es); err != nil {
			return r, err
		}
	}
	return r, nil
}

var (
	describeRE = regexp.MustCompile(`^v?([0-9]+\.[0-9]+\.[0-9]+)-([0-9]+)-g([0-9a-f]+)(-dirty)?$`)
	semverRE   = regexp.MustCompile(`^v?([0-9]+\.[0-9]+\.[0-9]+)(?:[-~](.+))?$`)
	unsafeRE   = regexp.MustCompile(`[^A-Za-z0-9.]+`)
)

// packageVersion splits v into the numeric release, a pre-release part
// (sorts before the release: "~") and a build part (sorts after it: "+"),
// all safe in deb and rpm version fields:
//
//	1.4.0, v1.4.0          1.4.0
//	v1.4.0-rc.1            1.4.0~rc.1
//	v1.4.0-3-gabc123-dirty 1.4.0+git.3.gabc123.dirty (git describe after a tag)
//	e01c38c-dirty          0.0.0~dev.e01c38c.dirty  (no tag: before every release)
func packageVersion(v string) (release, pre, build string) {
	clean := func(s string) string { return strings.Trim(unsafeRE.ReplaceAllString(s, "."), ".") }
	if m := describeRE.FindStringSubmatch(v); m != nil {
		return m[1], "", clean("git." + m[2] + ".g" + m[3] + m[4])
	}
	if m := semverRE.FindStringSubmatch(v); m != nil {
		return m[1], clean(m[2]), ""
	}
	pre = clean(v)
	if pre == "" {
		pre = "unknown"
	}
	return "0.0.0", "dev." + pre, ""
}

func info(o Options, es []entry, format string) (*nfpm.Info, error) {
	release, pre, build := packageVersion(o.Version)
	scripts := filepath.Join(o.Repo, "packaging", "scripts")
	in := &nfpm.Info{
		Name:            Name,
		Arch:            "amd64",
		Platform:        "linux",
		Version:         release,
		VersionSchema:   "none",
		Prerelease:      pre,
		VersionMetadata: build,
		Section:         "admin",
		Priority:        "optional",
		Maintainer:      Maintainer,
		Description:     Description,
		Vendor:          "podguard",
		Homepage:        Homepage,
		License:         License,
		Overridables: nfpm.Overridables{
			Contents: nfpmContents(es),
			Umask:    0o022,
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(scripts, "postinstall.sh"),
				PreRemove:   filepath.Join(scripts, "preremove.sh"),
				PostRemove:  filepath.Join(scripts, "postremove.sh"),
			},
			RPM: nfpm.RPM{Summary: Summary, Group: "System Environment/Daemons"},
		},
	}
	in = nfpm.WithDefaults(in)
	if err := nfpm.PrepareForPackager(in, format); err != nil {
		return nil, fmt.Errorf("%s contents: %w", format, err)
	}
	return in, nil
}

// writeNFPM writes one package with nfpm's packager for format.
func writeNFPM(o Options, es []entry, format string) (string, error) {
	var p nfpm.Packager
	switch format {
	case "deb":
		p = deb.Default
	case "rpm":
		p = rpm.DefaultRPM
	default:
		return "", fmt.Errorf("unknown package format %q", format)
	}
	in, err := info(o, es, format)
	if err != nil {
		return "", err
	}
	path := filepath.Join(o.Out, p.ConventionalFileName(in))
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", format, err)
	}
	if err := p.Package(in, f); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("write %s: %w", format, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", format, err)
	}
	return path, nil
}
