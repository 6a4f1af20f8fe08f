//go:build 386 || amd64

package probes

import (
	"encoding/binary"
	"testing"
	"unsafe"
)

// FuzzDecode feeds arbitrary ring buffer records to the decoder: it must
// return an error or an event, never panic or read out of bounds.
func FuzzDecode(f *testing.F) {
	for _, k := range Kinds() {
		var h probeEventHdr
		h.Kind = uint16(k)
		rec := make([]byte, 512)
		copy(rec, unsafe.Slice((*byte)(unsafe.Pointer(&h)), unsafe.Sizeof(h)))
		f.Add(rec)
		f.Add(rec[:unsafe.Sizeof(h)])
		long := append([]byte(nil), rec...)
		for i := int(unsafe.Sizeof(h)); i+2 <= len(long); i += 2 {
			binary.LittleEndian.PutUint16(long[i:], 0xffff) // huge string lengths
		}
		f.Add(long)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var e Record
		if err := decode(raw, &e); err == nil && e.Kind == 0 {
			t.Fatalf("decoded a record without a kind: %+v", e)
		}
	})
}
