//go:build linux && amd64

package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/podguard/podguard/probes"
)

// collector keeps every event the probes deliver so checks can look for
// theirs in any order.
type collector struct {
	mu     sync.Mutex
	events []*probes.Record
}

func newCollector(p *probes.Probes) *collector {
	c := &collector{}
	go func() {
		for ev := range p.Events() {
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.mu.Unlock()
		}
	}()
	return c
}

// waitFor returns nil once an event matches, or an error naming what was
// missing and what was seen instead.
func (c *collector) waitFor(what string, match func(*probes.Record) bool) error {
	deadline := time.Now().Add(eventWait)
	for {
		c.mu.Lock()
		for _, e := range c.events {
			if match(e) {
				c.mu.Unlock()
				return nil
			}
		}
		n := len(c.events)
		c.mu.Unlock()
		if time.Now().After(deadline) {
			return fmt.Errorf("no event: %s within %v (%d events seen)%s", what, eventWait, n, c.summary())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *collector) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := ""
	for i, e := range c.events {
		if i == 40 {
			s += "\n  ..."
			break
		}
		s += fmt.Sprintf("\n  %s ktime=%d pid=%d tid=%d cg=%d sc=%d flags=%#x exe=%q path=%q addr=%v:%d target=%d sig=%d",
			e.Kind, e.KTime, e.TGID, e.PID, e.CgroupID, e.Syscall, e.Flags, e.Exe, e.Path, e.Addr, e.Port, e.TargetPID, e.Signal)
	}
	return s
}

// each calls f for every event collected so far.
func (c *collector) each(f func(*probes.Record)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.events {
		f(e)
	}
}
