package pkgbuild

import (
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/podguard/podguard/daemon/config"
)

// TestConfigTemplate: the shipped config.toml is valid and, as shipped,
// changes nothing; every setting it shows commented out is the real
// default (uncommenting them all still gives the defaults).
func TestConfigTemplate(t *testing.T) {
	path := filepath.Join(repo, "packaging/config.toml")
	data := readFile(t, path)
	def := config.Default()

	for _, key := range configKeys(reflect.TypeOf(*def), "") {
		if !regexp.MustCompile(`(?m)^# ` + regexp.QuoteMeta(key[strings.LastIndex(key, ".")+1:]) + `\b`).MatchString(data) {
			t.Errorf("packaging/config.toml does not document %s: add it, commented out, with its default", key)
		}
	}

	got, err := config.Parse(path, []byte(data))
	if err != nil {
		t.Fatalf("shipped config.toml does not load: %v", err)
	}
	got.Path = ""
	normalize(got)
	normalize(def)
	if !reflect.DeepEqual(got, def) {
		t.Errorf("shipped config.toml is not the defaults:\n got %+v\nwant %+v", got, def)
	}

	setting := regexp.MustCompile(`(?m)^# ([a-z_]+ = .*)$`)
	if n := len(setting.FindAllString(data, -1)); n < 14 {
		t.Fatalf("config.toml shows %d settings; the README's reference has more", n)
	}
	uncommented := setting.ReplaceAllString(data, "$1")
	got, err = config.Parse(path, []byte(uncommented))
	if err != nil {
		t.Fatalf("config.toml with every setting uncommented does not load: %v", err)
	}
	got.Path = ""
	normalize(got)
	def.Node = "node-7" // the example node name
	if !reflect.DeepEqual(got, def) {
		t.Errorf("a commented setting in config.toml is not its default:\n got %+v\nwant %+v", got, def)
	}
}

// normalize makes empty lists nil: `rulesets = []` is the default.
func normalize(c *config.Config) {
	if len(c.Policy.Rulesets) == 0 {
		c.Policy.Rulesets = nil
	}
	if len(c.Isolate.Allow) == 0 {
		c.Isolate.Allow = nil
	}
}

// configKeys lists the TOML keys of a config struct ("events.webhook.url").
func configKeys(ty reflect.Type, prefix string) []string {
	var keys []string
	for i := range ty.NumField() {
		f := ty.Field(i)
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, configKeys(f.Type, prefix+tag+".")...)
			continue
		}
		keys = append(keys, prefix+tag)
	}
	return keys
}
