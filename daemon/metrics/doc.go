// Package metrics serves podguard's Prometheus metrics. Values are read at
// scrape time from the Sources it is given (detection, outputs, workload
// resolver, isolation, the daemon's own state), so metrics cost nothing
// on the event path beyond the counters those keep anyway.
//
// It reads typed stats only; it must not import package daemon.
package metrics
