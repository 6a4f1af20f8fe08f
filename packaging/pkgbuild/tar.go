package pkgbuild

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TarVersion is the version in the tarball's name and top directory.
func TarVersion(v string) string {
	release, pre, build := packageVersion(v)
	if pre != "" {
		release += "-" + pre
	}
	if build != "" {
		release += "+" + build
	}
	return release
}

// writeTar writes podguard-VERSION-linux-amd64.tar.gz: the package layout
// (the deb's: unit under lib/systemd/system) under podguard-VERSION/, and
// install.sh at its top.
func writeTar(o Options, es []entry) (string, error) {
	top := "podguard-" + TarVersion(o.Version)
	out := filepath.Join(o.Out, top+"-linux-amd64.tar.gz")
	f, err := os.Create(out)
	if err != nil {
		return "", fmt.Errorf("create tarball: %w", err)
	}
	if err := tarTo(f, o, es, top); err != nil {
		f.Close()
		os.Remove(out)
		return "", fmt.Errorf("write tarball: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write tarball: %w", err)
	}
	return out, nil
}

func tarTo(w io.Writer, o Options, es []entry, top string) error {
	mtime := buildTime()
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	dirs := map[string]bool{}
	var addDir func(name string, mode os.FileMode) error
	addDir = func(name string, mode os.FileMode) error {
		if name == "." || name == "/" || dirs[name] {
			return nil
		}
		if err := addDir(path.Dir(name), 0o755); err != nil {
			return err
		}
		dirs[name] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: int64(mode), ModTime: mtime, Uname: "root", Gname: "root"})
	}
	addFile := func(name, src string, mode os.FileMode) error {
		if err := addDir(path.Dir(name), 0o755); err != nil {
			return err
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(mode), Size: int64(len(data)), ModTime: mtime, Uname: "root", Gname: "root"}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	}

	if err := addDir(top, 0o755); err != nil {
		return err
	}
	if err := addFile(top+"/install.sh", filepath.Join(o.Repo, "packaging", "tarball", "install.sh"), 0o755); err != nil {
		return err
	}
	for _, e := range es {
		if e.packager == "rpm" {
			continue
		}
		name := top + e.dst
		var err error
		if e.dir {
			err = addDir(name, e.mode)
		} else {
			err = addFile(name, e.src, e.mode)
		}
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// buildTime is SOURCE_DATE_EPOCH when set (reproducible builds), else now.
func buildTime() time.Time {
	if s := strings.TrimSpace(os.Getenv("SOURCE_DATE_EPOCH")); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Now().UTC().Truncate(time.Second)
}
