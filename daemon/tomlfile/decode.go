package tomlfile

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// File is a decoded TOML file that can say where its keys were written.
type File struct {
	Path  string
	lines keyLines
}

// Line returns the line on which the key path was written, or 0. Path
// elements are table names, keys and array indexes: Line("rule", 1, "id").
func (f *File) Line(path ...any) int {
	if f == nil {
		return 0
	}
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = fmt.Sprint(p)
	}
	return f.lines.lookup(parts)
}

// lookup finds the line of a key path, falling back to its enclosing table.
func (k keyLines) lookup(parts []string) int {
	for len(parts) > 0 {
		if l, ok := k[strings.Join(parts, ".")]; ok {
			return l
		}
		parts = parts[:len(parts)-1] // fall back to the enclosing table
	}
	return 0
}

// Problem makes a problem for this file at line.
func (f *File) Problem(line int, format string, args ...any) Problem {
	return Problem{File: f.Path, Line: line, Msg: fmt.Sprintf(format, args...)}
}

var typeErrLine = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// Decode parses data strictly into v (a pointer to a struct with toml tags).
// Syntax errors, values of the wrong type and keys v has no field for are
// all problems; the returned File is usable for line lookups even then.
func Decode(path string, data []byte, v any) (*File, Problems) {
	f := &File{Path: path}
	if !utf8.Valid(data) {
		line := 1 + strings.Count(string(data[:invalidUTF8At(data)]), "\n")
		return f, Problems{f.Problem(line, "file is not valid UTF-8 text; save it as UTF-8 (is it a binary file?)")}
	}
	f.lines = indexKeys(string(data))
	md, err := toml.Decode(string(data), v)
	if err != nil {
		return f, Problems{syntaxProblem(f, data, err)}
	}
	probs := checkShapes(f, md, reflect.TypeOf(v), nil)
	var reported []string
	for _, k := range md.Undecoded() {
		key := k.String()
		if under(key, reported) {
			continue
		}
		reported = append(reported, key)
		parent, name := k[:len(k)-1], k[len(k)-1]
		msg := fmt.Sprintf("unknown key %q", name)
		if len(parent) > 0 {
			msg = fmt.Sprintf("unknown key %q in [%s]", name, tableName(parent))
		}
		if valid := validKeys(reflect.TypeOf(v), parent); len(valid) > 0 {
			msg += "; valid keys there are: " + strings.Join(valid, ", ")
		}
		probs = append(probs, f.Problem(f.lines.lookup(k), "%s", msg))
	}
	return f, probs
}

func syntaxProblem(f *File, data []byte, err error) Problem {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		line := pe.Position.Line
		if s := pe.Position.Start; s > 0 && s <= len(data) {
			// Count from the byte offset: an unexpected newline belongs to
			// the line it ends, not the next one.
			line = 1 + strings.Count(string(data[:s]), "\n")
		}
		msg := pe.Message
		if pe.LastKey != "" && !strings.Contains(msg, pe.LastKey) {
			msg = fmt.Sprintf("%s (after key %q)", msg, pe.LastKey)
		}
		return f.Problem(line, "TOML syntax error: %s; fix the syntax on this line", msg)
	}
	if m := typeErrLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return f.Problem(line, "wrong type for %q: %s", m[2], strings.TrimPrefix(m[3], "incompatible types: "))
	}
	return f.Problem(0, "%s", strings.TrimPrefix(err.Error(), "toml: "))
}

func under(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(key, p+".") {
			return true
		}
	}
	return false
}

// tableName renders a key path without array indexes: rule.0 -> rule.
func tableName(k toml.Key) string {
	var parts []string
	for _, p := range k {
		if _, err := strconv.Atoi(p); err != nil {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// validKeys lists the toml keys of the struct reached from t along path.
func validKeys(t reflect.Type, path toml.Key) []string {
	for {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		if len(path) == 0 {
			break
		}
		f, ok := fieldByKey(t, path[0])
		if !ok {
			return nil
		}
		t, path = f.Type, path[1:]
		if len(path) > 0 {
			if _, err := strconv.Atoi(path[0]); err == nil {
				path = path[1:]
			}
		}
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if k := tomlKey(t.Field(i)); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if tomlKey(t.Field(i)) == key {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func tomlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	if tag, ok := f.Tag.Lookup("toml"); ok {
		return strings.Split(tag, ",")[0]
	}
	return f.Name
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// checkShapes reports tables and arrays written as something else.
// BurntSushi/toml silently skips a plain value given for a map (e.g.
// labels = "app=php"), so the shape is checked here from the metadata.
func checkShapes(f *File, md toml.MetaData, t reflect.Type, path []string) Problems {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var probs Problems
	for i := 0; i < t.NumField(); i++ {
		key := tomlKey(t.Field(i))
		if key == "" || key == "-" {
			continue
		}
		p := append(append([]string(nil), path...), key)
		got := md.Type(p...)
		if got == "" {
			continue
		}
		ft := t.Field(i).Type
		want := ""
		switch {
		case ft.Kind() == reflect.Map || ft.Kind() == reflect.Struct:
			want = "Hash"
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			want = "ArrayHash"
		case ft.Kind() == reflect.Slice:
			want = "Array"
		}
		if want != "" && got != want {
			probs = append(probs, f.Problem(f.lines.lookup(p), "wrong type for %q: it must be %s, not a %s", strings.Join(p, "."), shape(want, key), strings.ToLower(got)))
			continue
		}
		if ft.Kind() == reflect.Struct {
			probs = append(probs, checkShapes(f, md, ft, p)...)
		}
	}
	return probs
}

func shape(want, key string) string {
	switch want {
	case "Hash":
		return "a table ([" + key + "])"
	case "ArrayHash":
		return "a list of tables ([[" + key + "]])"
	}
	return "a list ([...])"
}
