//go:build linux && amd64

package kernels

import (
	"bytes"
	"fmt"
)

// cpioFile is one regular file of an initramfs.
type cpioFile struct {
	Name string // without a leading slash
	Mode uint32 // permission bits
	Data []byte
}

// newcArchive writes an uncompressed cpio "newc" archive, the format the
// kernel unpacks as initramfs.
func newcArchive(files []cpioFile) []byte {
	var b bytes.Buffer
	entry := func(ino int, mode uint32, name string, data []byte) {
		// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
		// devminor, rdevmajor, rdevminor, namesize, check
		fmt.Fprintf(&b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		b.WriteString(name)
		b.WriteByte(0)
		pad(&b)
		b.Write(data)
		pad(&b)
	}
	for i, f := range files {
		entry(i+1, 0o100000|f.Mode, f.Name, f.Data)
	}
	entry(0, 0, "TRAILER!!!", nil)
	return b.Bytes()
}

func pad(b *bytes.Buffer) {
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
}
