// Package fuzzstep holds CI's fuzz step (fuzz.sh: each fuzz target for an
// execution-count budget, failing only on a target's failure) and the
// test that shows the step fails on a real finding and passes otherwise.
package fuzzstep
