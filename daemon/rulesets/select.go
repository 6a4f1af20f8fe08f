package rulesets

import "github.com/podguard/podguard/daemon/catalog"

// Verdict is what applies to a pod for one managed rule.
type Verdict struct {
	Mitigation catalog.Mitigation
	Ruleset    string // the ruleset that set this mitigation
}

// Selection maps managed rule ids to what applies for one pod.
type Selection map[string]Verdict

// Select returns the rules that apply to a pod with these labels: every
// rule of every ruleset in force that selects the pod, with the strongest
// mitigation among them (terminate > isolate > log). On a tie the first
// ruleset in file order names the verdict.
func (s *Snapshot) Select(podLabels map[string]string) Selection {
	sel := Selection{}
	if s == nil {
		return sel
	}
	for _, rs := range s.Rulesets {
		if !rs.Selects(podLabels) {
			continue
		}
		for id, m := range rs.Rules {
			if cur, ok := sel[id]; !ok || m > cur.Mitigation {
				sel[id] = Verdict{Mitigation: m, Ruleset: rs.Name}
			}
		}
	}
	return sel
}

// Strongest returns the strongest mitigation in the selection, or 0.
func (sel Selection) Strongest() catalog.Mitigation {
	var m catalog.Mitigation
	for _, v := range sel {
		m = catalog.Stronger(m, v.Mitigation)
	}
	return m
}
