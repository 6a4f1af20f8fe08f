//go:build linux && amd64

package kernels

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// vmlinuzFromDeb returns the bzImage a kernel image package ships
// (/boot/vmlinuz-* before Debian 14, /usr/lib/modules/<abi>/vmlinuz after).
func vmlinuzFromDeb(deb string) ([]byte, error) {
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer cmd.Wait()
	defer io.Copy(io.Discard, out) // let dpkg-deb finish writing
	tr := tar.NewReader(out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s: %w", filepath.Base(deb), errNoVmlinuz)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w: %s", deb, err, stderr.String())
		}
		name := strings.TrimPrefix(h.Name, ".")
		boot, _ := path.Match("/boot/vmlinuz-*", name)
		mods, _ := path.Match("/usr/lib/modules/*/vmlinuz", name)
		if h.Typeflag == tar.TypeReg && (boot || mods) {
			return io.ReadAll(tr)
		}
	}
}

// bzPayload returns the compressed kernel inside a bzImage, located by the
// boot protocol's setup header (payload_offset/payload_length, 2.08+).
func bzPayload(bz []byte) ([]byte, error) {
	if len(bz) < 0x250 || string(bz[0x202:0x206]) != "HdrS" {
		return nil, errors.New("not a bzImage (no HdrS setup header)")
	}
	if v := binary.LittleEndian.Uint16(bz[0x206:]); v < 0x208 {
		return nil, fmt.Errorf("boot protocol %#x has no payload fields", v)
	}
	setupSects := int(bz[0x1f1])
	if setupSects == 0 {
		setupSects = 4
	}
	start := (setupSects+1)*512 + int(binary.LittleEndian.Uint32(bz[0x248:]))
	end := start + int(binary.LittleEndian.Uint32(bz[0x24c:]))
	if start >= end || end > len(bz) {
		return nil, fmt.Errorf("payload [%d,%d) outside the %d-byte image", start, end, len(bz))
	}
	return bz[start:end], nil
}

// decompressors by payload magic; each reads stdin and writes stdout.
// Kbuild appends the uncompressed size (le32) to every payload; in gzip
// it is the format's own ISIZE trailer, the others must not see it.
var decompressors = []struct {
	magic   []byte
	cmd     []string
	sizeOwn bool // the size trailer belongs to the format
}{
	{[]byte("\xfd7zXZ\x00"), []string{"xz", "-dc"}, false},
	{[]byte("\x28\xb5\x2f\xfd"), []string{"zstd", "-dcq"}, false},
	{[]byte("\x1f\x8b"), []string{"gzip", "-dc"}, true},
	{[]byte("\x02\x21\x4c\x18"), []string{"lz4", "-dc"}, false},
}

// vmlinuxFromBzImage decompresses a bzImage's payload into the ELF
// vmlinux, which qemu boots through its PVH note.
func vmlinuxFromBzImage(bz []byte) ([]byte, error) {
	payload, err := bzPayload(bz)
	if err != nil {
		return nil, err
	}
	if len(payload) < 8 {
		return nil, errors.New("payload too short")
	}
	size := int(binary.LittleEndian.Uint32(payload[len(payload)-4:]))
	for _, d := range decompressors {
		if !bytes.HasPrefix(payload, d.magic) {
			continue
		}
		in := payload
		if !d.sizeOwn {
			in = payload[:len(payload)-4]
		}
		cmd := exec.Command(d.cmd[0], d.cmd[1:]...)
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %s", strings.Join(d.cmd, " "), err, stderr.String())
		}
		if len(out) != size {
			return nil, fmt.Errorf("%s gave %d bytes, the image says %d", d.cmd[0], len(out), size)
		}
		f, err := elf.NewFile(bytes.NewReader(out))
		if err != nil {
			return nil, fmt.Errorf("decompressed kernel: %w", err)
		}
		defer f.Close()
		if f.Machine != elf.EM_X86_64 {
			return nil, fmt.Errorf("decompressed kernel is for %v", f.Machine)
		}
		return out, nil
	}
	n := min(len(payload), 8)
	return nil, fmt.Errorf("unknown kernel compression (payload starts % x)", payload[:n])
}

// writeAtomic writes data to path through a temporary file in its dir.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
