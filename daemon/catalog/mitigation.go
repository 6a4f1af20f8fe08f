package catalog

import "fmt"

// Mitigation is what podguard does when a rule matches. The zero value is
// invalid; the order of the constants is their strength.
type Mitigation uint8

const (
	// Log records the event only.
	Log Mitigation = iota + 1
	// Isolate cuts the pod's network in both directions.
	Isolate
	// Terminate kills every task of the pod.
	Terminate
)

// Mitigations lists the valid mitigations, weakest first.
var Mitigations = []Mitigation{Log, Isolate, Terminate}

func (m Mitigation) String() string {
	switch m {
	case Log:
		return "log"
	case Isolate:
		return "isolate"
	case Terminate:
		return "terminate"
	}
	return fmt.Sprintf("mitigation(%d)", uint8(m))
}

// ParseMitigation turns "log", "isolate" or "terminate" into a Mitigation.
func ParseMitigation(s string) (Mitigation, error) {
	for _, m := range Mitigations {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown mitigation %q", s)
}

// Stronger returns the stronger of a and b: terminate > isolate > log.
func Stronger(a, b Mitigation) Mitigation {
	if b > a {
		return b
	}
	return a
}

// MarshalText encodes the mitigation by name.
func (m Mitigation) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText decodes a mitigation by name.
func (m *Mitigation) UnmarshalText(b []byte) error {
	v, err := ParseMitigation(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
