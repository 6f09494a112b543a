package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// bbolt's on-disk meta page: a 16-byte page header, then magic, version,
// page size, flags, the root bucket (16 bytes), the freelist page id and
// the high-water mark (pgid), all little endian on the platforms we run.
const (
	boltMagic      = 0xED0CDAED
	metaMagicOff   = 16
	metaPageSzOff  = 24
	metaHighMarkOf = 56
)

// precheck reads a store file's two meta pages before bbolt maps it, and
// refuses a file shorter than its own high-water mark says. bbolt memory
// maps the file, and touching a page past the end of a truncated file
// raises SIGBUS, which no recover can catch: the process would die instead
// of refusing with a message. A missing or empty file is fine (bbolt
// creates it).
func precheck(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return nil
	}
	return readMetas(f, fi.Size())
}

func readMetas(f *os.File, size int64) error {
	meta := func(at int64) (pageSize uint32, hwm uint64, ok bool) {
		buf := make([]byte, metaHighMarkOf+8)
		if _, err := f.ReadAt(buf, at); err != nil && !errors.Is(err, io.EOF) {
			return 0, 0, false
		}
		if binary.LittleEndian.Uint32(buf[metaMagicOff:]) != boltMagic {
			return 0, 0, false
		}
		return binary.LittleEndian.Uint32(buf[metaPageSzOff:]), binary.LittleEndian.Uint64(buf[metaHighMarkOf:]), true
	}
	ps, hwm0, ok0 := meta(0)
	if !ok0 {
		// The first meta may be the torn one; bbolt then reads the second
		// at the OS page size.
		ps = uint32(os.Getpagesize())
	}
	_, hwm1, ok1 := meta(int64(ps))
	if !ok0 && !ok1 {
		return fmt.Errorf("no valid meta page")
	}
	hwm := max(hwm0, hwm1)
	if ps == 0 || hwm > 1<<40 {
		return fmt.Errorf("meta page out of range")
	}
	if need := int64(hwm) * int64(ps); size < need {
		return fmt.Errorf("file is %d bytes but its pages reach %d: truncated", size, need)
	}
	return nil
}
