package probes

// Feature is one kernel capability podguard looks for, as `podguard
// kernel` prints it.
type Feature struct {
	Name     string // e.g. "ring buffer", "raw_tracepoint/sys_enter"
	Present  bool
	Detail   string // what was checked, or why it is absent/unknown
	Fallback string // what podguard does without it ("" = required)
}
