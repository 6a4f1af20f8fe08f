//go:build linux && amd64

package kernels

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// fakeBzImage wraps payload the way Kbuild does: a setup header with
// payload_offset/payload_length, the compressed kernel, and (except for
// gzip) the uncompressed size appended as le32.
func fakeBzImage(payload []byte) []byte {
	const setupSects = 3
	pm := (setupSects + 1) * 512
	const payloadOff = 0x40 // the real one is past the decompressor stub
	bz := make([]byte, pm+payloadOff, pm+payloadOff+len(payload)+512)
	bz[0x1f1] = setupSects
	copy(bz[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(bz[0x206:], 0x20f)
	binary.LittleEndian.PutUint32(bz[0x248:], payloadOff)
	binary.LittleEndian.PutUint32(bz[0x24c:], uint32(len(payload)))
	bz = append(bz, payload...)
	return append(bz, make([]byte, 512)...) // trailing data (e.g. a PE signature)
}

func compress(t *testing.T, tool string, data []byte, sizeTrailer bool) []byte {
	t.Helper()
	args := map[string][]string{"xz": {"-c", "--check=crc32", "-1"}, "zstd": {"-c", "-q", "-1"}, "gzip": {"-c", "-1"}}[tool]
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("%s not installed", tool)
	}
	cmd := exec.Command(tool, args...)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	if sizeTrailer {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(data)))
	}
	return out
}

func TestVmlinuxFromBzImage(t *testing.T) {
	// any x86-64 ELF stands in for a vmlinux: use this test binary
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tool    string
		trailer bool
	}{{"xz", true}, {"zstd", true}, {"gzip", false}} {
		t.Run(c.tool, func(t *testing.T) {
			got, err := vmlinuxFromBzImage(fakeBzImage(compress(t, c.tool, self, c.trailer)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, self) {
				t.Fatalf("decompressed %d bytes, want the %d-byte original", len(got), len(self))
			}
		})
	}

	t.Run("truncated", func(t *testing.T) {
		payload := compress(t, "zstd", self, true)
		bz := fakeBzImage(payload)
		binary.LittleEndian.PutUint32(bz[0x24c:], uint32(len(payload)*2))
		if _, err := vmlinuxFromBzImage(bz); err == nil {
			t.Fatal("payload length past the image accepted")
		}
	})
	t.Run("not ELF", func(t *testing.T) {
		if _, err := vmlinuxFromBzImage(fakeBzImage(compress(t, "xz", []byte("not a kernel at all"), true))); err == nil {
			t.Fatal("non-ELF payload accepted")
		}
	})
	t.Run("not a bzImage", func(t *testing.T) {
		if _, err := vmlinuxFromBzImage(self); err == nil {
			t.Fatal("an ELF file accepted as bzImage")
		}
	})
}

// TestNewcArchive unpacks the archive with cpio(1), the format's reference
// reader, and compares the file and its mode.
func TestNewcArchive(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio not installed")
	}
	data := []byte("#!/bin/sh\necho odd length\n")
	arc := newcArchive([]cpioFile{{Name: "init", Mode: 0o755, Data: data}, {Name: "b", Mode: 0o600, Data: []byte("xy")}})
	dir := t.TempDir()
	cmd := exec.Command("cpio", "-i", "--quiet", "--no-absolute-filenames")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(arc)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -i: %v: %s", err, out)
	}
	for name, want := range map[string]struct {
		data []byte
		mode os.FileMode
	}{"init": {data, 0o755}, "b": {[]byte("xy"), 0o600}} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want.data) {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want.data)
		}
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		} else if st.Mode().Perm() != want.mode {
			t.Errorf("%s: mode %v, want %v", name, st.Mode().Perm(), want.mode)
		}
	}
}
