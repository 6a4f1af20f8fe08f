// Package ctrd connects podguard to the node's containerd: one dial with
// the namespace and timeout each caller needs (and why, in one place), and
// one error wording that tells the operator what to check.
//
// The workload resolver and mitigate's terminate and sandbox lookups both
// connect through Connect. The name is short for containerd so that it
// does not clash with the upstream client package, which callers import
// as containerd.
//
// It is a leaf below daemon: it must not import daemon or any other
// podguard package.
package ctrd
