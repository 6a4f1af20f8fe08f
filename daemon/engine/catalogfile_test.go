package engine

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/podguard/podguard/daemon/catalog"
)

var update = flag.Bool("update", false, "rewrite daemon/catalog/rules.json from the rules' definitions")

// catalogFile is the catalog package's data: the metadata of the
// definitions, generated.
const catalogFile = "../catalog/rules.json"

// renderCatalog encodes rules as `podguard rules --json` prints them.
func renderCatalog(tb testing.TB, rules []catalog.Rule) []byte {
	tb.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rules); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// TestCatalogFile: daemon/catalog/rules.json is exactly what the
// definitions give. A hand edit, or a definition changed without
// regenerating, fails here; `go generate ./daemon/engine` (this test with
// -update) rewrites it.
func TestCatalogFile(t *testing.T) {
	want := renderCatalog(t, managed.catalog())
	if *update {
		if err := os.WriteFile(catalogFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(catalogFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rules' definitions at line %d: run `go generate ./daemon/engine` (never edit it by hand)", catalogFile, firstDiffLine(got, want))
	}
}

func firstDiffLine(a, b []byte) int {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(al), len(bl)) {
		if !bytes.Equal(al[i], bl[i]) {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}
