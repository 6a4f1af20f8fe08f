package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"sort"
	"strings"
)

// EventsLost is the id of the rule whose mitigation a ruleset sets with
// on_loss: the kernel lost events of a pod.
const EventsLost = "events-lost"

// Rule is one managed detection.
type Rule struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Tactic      string     `json:"tactic"`      // ATT&CK tactic id, e.g. TA0002
	TacticName  string     `json:"tactic_name"` // e.g. Execution
	Technique   string     `json:"technique"`   // ATT&CK technique id, e.g. T1059.004
	Events      []string   `json:"events"`      // kernel event kinds the rule needs
	Mitigation  Mitigation `json:"mitigation"`  // suggested mitigation
}

// All returns every managed rule, sorted by id. The slice is a copy.
func All() []Rule {
	out := make([]Rule, len(rules))
	copy(out, rules)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup returns the rule with the given id.
func Lookup(id string) (Rule, bool) {
	r, ok := byID[id]
	return r, ok
}

// IDs returns every rule id, sorted.
func IDs() []string {
	ids := make([]string, 0, len(rules))
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	return ids
}

// Closest returns the rule id nearest to id by edit distance, for "did you
// mean" hints, or "" when nothing is reasonably close.
func Closest(id string) string {
	best, bestDist := "", len(id)/2+3
	for _, cand := range IDs() {
		d := distance(strings.ToLower(id), cand)
		if strings.Contains(cand, strings.ToLower(id)) && len(id) >= 4 {
			d = min(d, 2)
		}
		if d < bestDist {
			best, bestDist = cand, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// rulesJSON is the catalog, generated from the rules' definitions in
// package engine (go generate ./daemon/engine): the same JSON that
// `podguard rules --json` prints. Do not edit it by hand.
//
//go:embed rules.json
var rulesJSON []byte

// rules is the managed catalog. Ids are stable: rulesets refer to them.
var rules = func() []Rule {
	var rs []Rule
	dec := json.NewDecoder(bytes.NewReader(rulesJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		panic("catalog: rules.json: " + err.Error())
	}
	return rs
}()

var byID = func() map[string]Rule {
	m := make(map[string]Rule, len(rules))
	for _, r := range rules {
		if _, dup := m[r.ID]; dup {
			panic("catalog: duplicate rule id " + r.ID)
		}
		m[r.ID] = r
	}
	return m
}()
