package pkgbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/goreleaser/nfpm/v2/files"
)

// Installed paths, the same in every package except the unit directory.
const (
	BinPath       = "/usr/bin/podguard"
	DebUnitPath   = "/lib/systemd/system/podguard.service"
	RPMUnitPath   = "/usr/lib/systemd/system/podguard.service"
	ConfigPath    = "/etc/podguard/config.toml"
	ConfigDir     = "/etc/podguard"
	RulesDir      = "/etc/podguard/rules.d"
	StateDir      = "/var/lib/podguard"
	LogDir        = "/var/log/podguard"
	stateDirMode  = 0o700
	logDirMode    = 0o750
	configDirMode = 0o755
)

// entry is one installed path and where its bytes come from ("" for a
// directory).
type entry struct {
	src    string
	dst    string
	mode   os.FileMode
	dir    bool
	config bool
	// packager limits the entry to "deb" or "rpm"; "" is every package.
	packager string
}

// layout lists what a podguard package installs, read from the repository.
func layout(o Options) ([]entry, error) {
	unit := filepath.Join(o.Repo, "systemd", "podguard.service")
	config := filepath.Join(o.Repo, "packaging", "config.toml")
	for _, p := range []string{o.Binary, unit, config} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("package input: %w", err)
		}
	}
	rules, err := filepath.Glob(filepath.Join(o.Repo, "rules.d", "*.toml"))
	if err != nil {
		return nil, fmt.Errorf("rulesets: %w", err)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("rulesets: no *.toml in %s", filepath.Join(o.Repo, "rules.d"))
	}
	sort.Strings(rules)

	es := []entry{
		{src: o.Binary, dst: BinPath, mode: 0o755},
		{src: unit, dst: DebUnitPath, mode: 0o644, packager: "deb"},
		{src: unit, dst: RPMUnitPath, mode: 0o644, packager: "rpm"},
		{dst: ConfigDir, mode: configDirMode, dir: true},
		{src: config, dst: ConfigPath, mode: 0o644, config: true},
		{dst: RulesDir, mode: configDirMode, dir: true},
	}
	for _, r := range rules {
		es = append(es, entry{src: r, dst: RulesDir + "/" + filepath.Base(r), mode: 0o644, config: true})
	}
	es = append(es,
		entry{dst: StateDir, mode: stateDirMode, dir: true},
		entry{dst: LogDir, mode: logDirMode, dir: true},
	)
	return es, nil
}

// nfpmContents turns the layout into nfpm contents, owned by root.
func nfpmContents(es []entry) files.Contents {
	var cs files.Contents
	for _, e := range es {
		c := &files.Content{
			Source:      e.src,
			Destination: e.dst,
			Packager:    e.packager,
			FileInfo:    &files.ContentFileInfo{Owner: "root", Group: "root", Mode: e.mode},
		}
		switch {
		case e.dir:
			c.Type = files.TypeDir
		case e.config:
			c.Type = files.TypeConfigNoReplace
		}
		cs = append(cs, c)
	}
	return cs
}
