// Command pgpkg writes podguard's .deb, .rpm and .tar.gz from a built
// static binary:
//
//	go run ./packaging/cmd/pgpkg -binary podguard -version 1.4.0 -out dist
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/podguard/podguard/packaging/pkgbuild"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pgpkg:", err)
		os.Exit(1)
	}
}

func run() error {
	var o pkgbuild.Options
	flag.StringVar(&o.Binary, "binary", "podguard", "the built static podguard binary")
	flag.StringVar(&o.Version, "version", "", "the release version, e.g. 1.4.0 (required)")
	flag.StringVar(&o.Out, "out", "dist", "directory to write the packages to")
	flag.StringVar(&o.Repo, "repo", ".", "the podguard repository root (unit, rules.d, packaging/)")
	formats := flag.String("formats", "deb,rpm,tar", "comma-separated formats to write: deb, rpm, tar")
	flag.Parse()
	o.Formats = strings.Split(*formats, ",")
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if o.Version == "" {
		return fmt.Errorf("-version is required")
	}
	r, err := pkgbuild.Build(o)
	if err != nil {
		return err
	}
	for _, p := range []string{r.Deb, r.RPM, r.Tar} {
		if p != "" {
			fmt.Println(p)
		}
	}
	return nil
}
