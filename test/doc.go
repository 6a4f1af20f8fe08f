// Package test holds podguard's end-to-end tests: they build the real
// binary, run it as a user would, and check what the user would see.
// The real local node (containerd, CNI, pods) lives in test/node.
package test
