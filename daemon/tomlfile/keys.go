package tomlfile

import (
	"strconv"
	"strings"
)

// keyLines maps dotted key paths to the line they were written on. Array
// tables are indexed: the second [[rule]] table's id is "rule.1.id". Table
// headers are recorded under their own path.
type keyLines map[string]int

// indexKeys scans TOML source for table headers and key/value lines. It is
// deliberately forgiving: it serves line numbers for messages, and the real
// parser has already accepted the file.
func indexKeys(src string) keyLines {
	idx := keyLines{}
	arrays := map[string]int{} // array-table path -> count seen
	table := ""
	inMulti := "" // closing delimiter of a multi-line string we are inside
	for n, line := range strings.Split(src, "\n") {
		lineNo := n + 1
		t := strings.TrimSpace(line)
		if inMulti != "" {
			if strings.Contains(t, inMulti) {
				inMulti = ""
			}
			continue
		}
		if t == "" || t[0] == '#' {
			continue
		}
		switch {
		case strings.HasPrefix(t, "[["):
			name := cleanKey(strings.TrimSuffix(strings.TrimSpace(strings.SplitN(t[2:], "]]", 2)[0]), "]"))
			i := arrays[name]
			arrays[name] = i + 1
			table = name + "." + strconv.Itoa(i)
			idx.set(table, lineNo)
		case t[0] == '[':
			table = cleanKey(strings.SplitN(t[1:], "]", 2)[0])
			idx.set(table, lineNo)
		default:
			eq := strings.Index(t, "=")
			if eq <= 0 {
				continue
			}
			key := cleanKey(t[:eq])
			if table != "" {
				key = table + "." + key
			}
			idx.set(key, lineNo)
			val := strings.TrimSpace(t[eq+1:])
			for _, d := range []string{`"""`, `'''`} {
				if strings.HasPrefix(val, d) && !strings.Contains(val[3:], d) {
					inMulti = d
				}
			}
		}
	}
	return idx
}

func (k keyLines) set(key string, line int) {
	for _, kk := range []string{key, stripIndexes(key)} {
		if _, seen := k[kk]; !seen {
			k[kk] = line
		}
	}
}

// stripIndexes drops array indexes: rule.1.id -> rule.id. BurntSushi/toml
// names undecoded keys that way.
func stripIndexes(key string) string {
	parts := strings.Split(key, ".")
	out := parts[:0]
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			out = append(out, p)
		}
	}
	return strings.Join(out, ".")
}

// cleanKey normalises a possibly dotted, possibly quoted key.
func cleanKey(s string) string {
	var parts []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	parts = append(parts, strings.TrimSpace(cur.String()))
	return strings.Join(parts, ".")
}
