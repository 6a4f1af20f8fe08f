package rulesets

import (
	"fmt"
	"sort"
	"strings"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/tomlfile"
)

// AllRules is the rule id that enables every managed rule.
const AllRules = "*"

// Ruleset is one validated, compiled ruleset file.
type Ruleset struct {
	Name        string
	Description string
	File        string
	// Labels must all match a pod's labels; nil selects every pod.
	Labels map[string]string
	// Rules maps managed rule ids to their mitigation, "*" expanded.
	// Every ruleset holds catalog.EventsLost, with OnLoss.
	Rules map[string]catalog.Mitigation
	// OnLoss is what the kernel losing events of a selected pod means
	// (catalog.EventsLost's mitigation): on_loss, default log.
	OnLoss catalog.Mitigation
}

// Selects reports whether the ruleset applies to a pod with these labels.
func (r *Ruleset) Selects(podLabels map[string]string) bool {
	for k, v := range r.Labels {
		if got, ok := podLabels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

type fileSchema struct {
	Name        string            `toml:"name"`
	Description string            `toml:"description"`
	Labels      map[string]string `toml:"labels"`
	OnLoss      string            `toml:"on_loss"`
	Rule        []ruleSchema      `toml:"rule"`
}

type ruleSchema struct {
	ID         string `toml:"id"`
	Mitigation string `toml:"mitigation"`
}

// Parse validates one ruleset file. It returns the compiled ruleset, or the
// problems found (every one of them, not just the first).
func Parse(path string, data []byte) (*Ruleset, tomlfile.Problems) {
	var s fileSchema
	f, probs := tomlfile.Decode(path, data, &s)
	if len(probs) > 0 {
		return nil, probs
	}
	switch {
	case strings.TrimSpace(string(data)) == "":
		return nil, tomlfile.Problems{f.Problem(1, "file is empty; a ruleset needs at least `name = \"...\"` and one [[rule]]")}
	case s.Name == "":
		probs = append(probs, f.Problem(1, "ruleset has no name; add `name = \"my-ruleset\"` at the top (unique in the rules directory)"))
	case !validName(s.Name):
		probs = append(probs, f.Problem(f.Line("name"), "ruleset name %q is not valid; use 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit", s.Name))
	}
	for k, v := range s.Labels {
		if msg := checkLabelKey(k); msg != "" {
			probs = append(probs, f.Problem(f.Line("labels", k), "label key %q: %s", k, msg))
		}
		if msg := checkLabelValue(v); msg != "" {
			probs = append(probs, f.Problem(f.Line("labels", k), "label value %q for %q: %s", v, k, msg))
		}
	}
	if len(s.Rule) == 0 {
		probs = append(probs, f.Problem(f.Line("name"), "ruleset enables no rules; add a [[rule]] table with `id` (see `podguard rules`) and `mitigation`"))
	}
	r := &Ruleset{Name: s.Name, Description: s.Description, File: path, Rules: map[string]catalog.Mitigation{}}
	if s.Labels != nil {
		r.Labels = s.Labels
	}
	r.OnLoss = catalog.Log
	if s.OnLoss != "" {
		m, err := catalog.ParseMitigation(s.OnLoss)
		if err != nil {
			probs = append(probs, f.Problem(f.Line("on_loss"), "on_loss %q is not valid; use \"log\", \"isolate\" or \"terminate\" (what losing a pod's kernel events means for it)", s.OnLoss))
		}
		r.OnLoss = m
	}
	var star catalog.Mitigation
	firstLine := map[string]int{}
	for i, rs := range s.Rule {
		line := f.Line("rule", i, "id")
		m, err := catalog.ParseMitigation(rs.Mitigation)
		switch {
		case rs.Mitigation == "":
			probs = append(probs, f.Problem(f.Line("rule", i), "rule %q has no mitigation; add `mitigation = \"log\"` (or \"isolate\", \"terminate\")", rs.ID))
		case err != nil:
			probs = append(probs, f.Problem(f.Line("rule", i, "mitigation"), "mitigation %q is not valid; use \"log\", \"isolate\" or \"terminate\"", rs.Mitigation))
		}
		switch {
		case rs.ID == "":
			probs = append(probs, f.Problem(f.Line("rule", i), "[[rule]] has no id; add `id = \"...\"` with a managed rule id (see `podguard rules`) or \"*\" for all"))
			continue
		case firstLine[rs.ID] != 0:
			probs = append(probs, f.Problem(line, "rule %q is listed twice in this ruleset (first on line %d); keep one entry", rs.ID, firstLine[rs.ID]))
			continue
		}
		firstLine[rs.ID] = line
		if rs.ID == AllRules {
			star = m
			continue
		}
		if rs.ID == catalog.EventsLost {
			probs = append(probs, f.Problem(line, "rule %q takes its mitigation from the ruleset's on_loss; remove this [[rule]] and set `on_loss = \"%s\"` at the top", rs.ID, rs.Mitigation))
			continue
		}
		if _, ok := catalog.Lookup(rs.ID); !ok {
			msg := fmt.Sprintf("unknown rule id %q", rs.ID)
			if c := catalog.Closest(rs.ID); c != "" {
				msg += fmt.Sprintf("; did you mean %q?", c)
			}
			probs = append(probs, f.Problem(line, "%s (`podguard rules` lists the managed rules)", msg))
			continue
		}
		r.Rules[rs.ID] = m
	}
	if len(probs) > 0 {
		probs.Sort()
		return nil, probs
	}
	if star != 0 {
		for _, id := range catalog.IDs() {
			if _, explicit := r.Rules[id]; !explicit {
				r.Rules[id] = star // an explicit entry overrides "*"
			}
		}
	}
	r.Rules[catalog.EventsLost] = r.OnLoss // never silent: every ruleset reports loss
	return r, nil
}

// RuleIDs returns the ruleset's rule ids, sorted.
func (r *Ruleset) RuleIDs() []string {
	ids := make([]string, 0, len(r.Rules))
	for id := range r.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}
