package syncproto

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Ops travel and rest in a binary, column-wise encoding: the ops of a
// PUSH or CHANGES frame, and each op of the ground's log. JSON spelt out
// every field name and every id as 36 characters of hex for every op, and
// decoding it was most of the CPU a full pull cost on both ends. Columns
// put like with like (all ids, all timestamps, all create payloads), so
// zstd finds far more to share than in ops written one after another.
//
//	byte     opsFormat
//	uvarint  n, the number of ops
//	ids      n x 16 bytes, each XORed with the id before it: ids from one
//	         source share their node and most of their time, so this is
//	         mostly zeros
//	enquiry  n x uvarint: 0 = 16 bytes follow; 1 = the op's own id (a
//	         create); k >= 2 = the id of the op k-1 places earlier
//	hlc      n x varint, the difference from the HLC before it
//	kinds    uvarint count, that many strings; n x uvarint index
//	actors   uvarint count, that many x (type, id, name, staff) strings;
//	         n x uvarint index
//	data     n x string, grouped by kind (the ops of the first kind in the
//	         table in op order, then the second, ...); empty = no data
//
// A string is a uvarint length and that many bytes. Data stays the op's
// JSON payload as it was written, byte for byte, so the encoding changes
// nothing an op's signature, id or fold could depend on.
const opsFormat = 2 // 1 had no staff number in the actor; never released

// minOpBytes is the least an op takes: its id and a byte in each of the
// other five columns. Counts are checked against it before allocating.
const minOpBytes = 16 + 5

// AppendOps appends the binary encoding of ops to dst.
func AppendOps(dst []byte, ops []Op) []byte {
	size := 0
	for i := range ops {
		size += 40 + len(ops[i].Data)
	}
	dst = slices.Grow(dst, size)
	dst = append(dst, opsFormat)
	dst = binary.AppendUvarint(dst, uint64(len(ops)))
	var prev uuid.UUID
	for i := range ops {
		for j, b := range ops[i].ID {
			dst = append(dst, b^prev[j])
		}
		prev = ops[i].ID
	}
	for i := range ops {
		ref := enquiryRef(ops, i)
		dst = binary.AppendUvarint(dst, ref)
		if ref == 0 {
			dst = append(dst, ops[i].Enquiry[:]...)
		}
	}
	var h HLC
	for i := range ops {
		dst = binary.AppendVarint(dst, int64(ops[i].HLC-h))
		h = ops[i].HLC
	}
	// Tables are searched linearly: a batch has a handful of kinds and
	// actors, and a map would cost more than it saves.
	var kinds []Kind
	kindIdx := make([]int, len(ops))
	for i := range ops {
		kindIdx[i] = indexOf(&kinds, ops[i].Kind)
	}
	dst = binary.AppendUvarint(dst, uint64(len(kinds)))
	for _, k := range kinds {
		dst = appendString(dst, string(k))
	}
	for _, k := range kindIdx {
		dst = binary.AppendUvarint(dst, uint64(k))
	}
	var actors []Actor
	actorIdx := make([]int, len(ops))
	for i := range ops {
		actorIdx[i] = indexOf(&actors, ops[i].Actor)
	}
	dst = binary.AppendUvarint(dst, uint64(len(actors)))
	for _, a := range actors {
		dst = appendString(appendString(appendString(appendString(dst, a.Type), a.ID), a.Name), a.Staff)
	}
	for _, a := range actorIdx {
		dst = binary.AppendUvarint(dst, uint64(a))
	}
	for k := range kinds {
		for i := range ops {
			if kindIdx[i] == k {
				dst = appendString(dst, string(ops[i].Data))
			}
		}
	}
	return dst
}

// enquiryRef is the enquiry column's value for op i (see opsFormat).
func enquiryRef(ops []Op, i int) uint64 {
	if ops[i].Enquiry == ops[i].ID {
		return 1
	}
	// Look back a little only: an enquiry's ops sit together in a page,
	// and a long search per op would make a batch quadratic.
	for k := 1; k <= 16 && k <= i; k++ {
		if ops[i-k].ID == ops[i].Enquiry {
			return uint64(k + 1)
		}
	}
	return 0
}

func indexOf[T comparable](table *[]T, v T) int {
	for i, t := range *table {
		if t == v {
			return i
		}
	}
	*table = append(*table, v)
	return len(*table) - 1
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// DecodeOps decodes what AppendOps encoded, refusing more than maxOps ops.
// It trusts nothing: every count and length is checked against what is
// left before anything is allocated, strings must be UTF-8, and data must
// be empty or valid JSON. Every failure is an *Error with CodeBadFrame
// (CodeTooLarge for too many ops). The ops own their memory.
func DecodeOps(b []byte, maxOps int) ([]Op, error) { return decodeOps(b, maxOps, true) }

// DecodeOwnOps is DecodeOps for bytes this replica encoded itself from ops
// it had validated (its own log): it skips the JSON check of each payload,
// which is most of the cost of a decode. Everything else is still checked.
func DecodeOwnOps(b []byte, maxOps int) ([]Op, error) { return decodeOps(b, maxOps, false) }

func decodeOps(b []byte, maxOps int, checkJSON bool) ([]Op, error) {
	r := opsReader{b: b}
	if v := r.byte(); r.err == nil && v != opsFormat {
		return nil, Errorf(CodeBadFrame, "ops: unknown format %d", v)
	}
	n := r.count(minOpBytes)
	if r.err != nil {
		return nil, r.fail()
	}
	if n > maxOps {
		return nil, Errorf(CodeTooLarge, "ops: %d ops is over the %d op limit", n, maxOps)
	}
	ops := make([]Op, n)
	var prev uuid.UUID
	for i := range ops {
		id := r.bytes(16)
		if r.err != nil {
			return nil, r.fail()
		}
		for j := range id {
			prev[j] ^= id[j]
		}
		ops[i].ID = prev
	}
	for i := range ops {
		switch ref := r.uvarint(); {
		case r.err != nil:
			return nil, r.fail()
		case ref == 0:
			e := r.bytes(16)
			if r.err != nil {
				return nil, r.fail()
			}
			ops[i].Enquiry = uuid.UUID(e)
		case ref == 1:
			ops[i].Enquiry = ops[i].ID
		case ref-1 <= uint64(i):
			ops[i].Enquiry = ops[i-int(ref-1)].ID
		default:
			return nil, Errorf(CodeBadFrame, "ops: op %d refers to an enquiry before the batch", i)
		}
	}
	var h HLC
	for i := range ops {
		h += HLC(r.varint())
		ops[i].HLC = h
	}
	kinds := make([]Kind, r.count(1))
	for i := range kinds {
		kinds[i] = Kind(r.string())
	}
	kindIdx := make([]int, n)
	for i := range ops {
		kindIdx[i] = r.index(len(kinds))
		if r.err == nil {
			ops[i].Kind = kinds[kindIdx[i]]
		}
	}
	actors := make([]Actor, r.count(4))
	for i := range actors {
		actors[i] = Actor{Type: r.string(), ID: r.string(), Name: r.string(), Staff: r.string()}
	}
	for i := range ops {
		if a := r.index(len(actors)); r.err == nil {
			ops[i].Actor = actors[a]
		}
	}
	if r.err != nil {
		return nil, r.fail()
	}
	// One copy for all payloads: the ops must outlive b (a bbolt page, a
	// reused buffer).
	arena := make([]byte, 0, len(r.b)-r.off)
	for k := range kinds {
		for i := range ops {
			if kindIdx[i] != k {
				continue
			}
			d := r.bytes(r.length())
			if r.err != nil {
				return nil, r.fail()
			}
			if len(d) == 0 {
				continue
			}
			if checkJSON && !json.Valid(d) {
				return nil, Errorf(CodeBadFrame, "ops: op %s data is not JSON", ops[i].ID)
			}
			start := len(arena)
			arena = append(arena, d...)
			ops[i].Data = json.RawMessage(arena[start:len(arena):len(arena)])
		}
	}
	if r.off != len(r.b) {
		return nil, Errorf(CodeBadFrame, "ops: %d bytes of trailing data", len(r.b)-r.off)
	}
	return ops, nil
}

// opsReader reads the encoding; the first error sticks and every read
// after it returns zero values.
type opsReader struct {
	b   []byte
	off int
	err error
}

func (r *opsReader) fail() error {
	if r.err == io.ErrUnexpectedEOF {
		return Errorf(CodeBadFrame, "ops: truncated: %v", io.ErrUnexpectedEOF)
	}
	return Errorf(CodeBadFrame, "ops: %v", r.err)
}

func (r *opsReader) byte() byte {
	if r.err == nil && r.off >= len(r.b) {
		r.err = io.ErrUnexpectedEOF
	}
	if r.err != nil {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *opsReader) bytes(n int) []byte {
	if r.err == nil && n > len(r.b)-r.off {
		r.err = io.ErrUnexpectedEOF
	}
	if r.err != nil {
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

func (r *opsReader) uvarint() uint64 { return readVarint(r, binary.Uvarint) }

func (r *opsReader) varint() int64 { return readVarint(r, binary.Varint) }

func readVarint[T uint64 | int64](r *opsReader, decode func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := decode(r.b[r.off:])
	if n <= 0 {
		r.err = fmt.Errorf("bad varint at byte %d", r.off)
		if n == 0 {
			r.err = io.ErrUnexpectedEOF
		}
		return 0
	}
	r.off += n
	return v
}

// count reads a count of items that take at least min bytes each, refusing
// one the rest of the input cannot hold.
func (r *opsReader) count(min int) int {
	v := r.uvarint()
	if r.err == nil && v > uint64((len(r.b)-r.off)/min) {
		r.err = fmt.Errorf("count %d is more than the input holds", v)
	}
	if r.err != nil {
		return 0
	}
	return int(v)
}

func (r *opsReader) length() int { return r.count(1) }

func (r *opsReader) index(n int) int {
	v := r.uvarint()
	if r.err == nil && v >= uint64(n) {
		r.err = fmt.Errorf("index %d out of a table of %d", v, n)
	}
	if r.err != nil {
		return 0
	}
	return int(v)
}

func (r *opsReader) string() string {
	b := r.bytes(r.length())
	if r.err == nil && !utf8.Valid(b) {
		r.err = fmt.Errorf("string is not UTF-8")
	}
	if r.err != nil {
		return ""
	}
	return string(b)
}
