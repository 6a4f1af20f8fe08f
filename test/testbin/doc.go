// Package testbin builds the module's commands for tests: podguard itself,
// the syscall trigger, the kernel self-test. Each package and configuration
// is built once per test process (go build, CGO_ENABLED=0, so the binaries
// are static and run in containers and qemu guests too) into one temporary
// directory that Cleanup removes.
//
// It imports nothing from podguard; only test code and the bench harness
// import it.
//
// Use:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		testbin.Cleanup()
//		os.Exit(code)
//	}
//
//	bin := testbin.Build(t, testbin.Trigger)
package testbin
