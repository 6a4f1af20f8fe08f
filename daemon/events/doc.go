// Package events defines podguard's detection event (one JSON object per
// line, the schema in the README) and writes events to their outputs
// without ever blocking detection: a bounded queue feeds one writer
// goroutine, and what does not fit is dropped and counted.
package events
