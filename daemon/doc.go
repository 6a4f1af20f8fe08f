// Package daemon wires podguard together and owns its lifecycle: the
// config and its reload, the rulesets store with hot reload (files
// followed through fsnotify, and SIGHUP), the single-instance lock, and
// the local API that the CLI talks to.
//
// Run wires, in order: config → instance lock → rules store → workload
// resolver → event outputs → mitigator → detection (package detect) →
// API → metrics → file following → ready; teardown is the reverse. The
// sub-packages do the work; none of them imports package daemon.
package daemon
