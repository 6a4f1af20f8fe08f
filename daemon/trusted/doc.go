// Package trusted opens the files podguard trusts or writes — rulesets,
// the events file, state records, the API socket's directory — so that
// what is checked is what is used: a file is opened once, checked with
// fstat on that descriptor (type, size, owner, mode) and every directory
// of the path the kernel resolved, and then read or written through the
// same descriptor. A file swapped between a check and a read, a FIFO, a
// symlink planted where podguard writes, or a directory someone else can
// write are refused with an error that says what to fix.
//
// It is a leaf: it imports nothing from podguard.
package trusted
