package syncproto

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"testing"
)

// codecOps is a batch that uses every part of the encoding: a create and
// the ops that refer back to it, ops whose enquiry is not in the batch,
// an op with no data, an unknown kind, an actor with a name, and HLCs
// that go backwards.
func codecOps() []Op {
	ops := sampleOps(12)
	ops[0].Enquiry = ops[0].ID // a create: its own enquiry
	ops[1].Enquiry = ops[0].ID // refers back to the create
	ops[5].Enquiry = ops[0].ID
	ops[3].Data = nil
	ops[4].Kind = "future_kind"
	ops[6].HLC = ops[5].HLC - 1000
	ops[7].Actor.Name = "Zoë Crew"
	return ops
}

// Ensure ops survive AppendOps and DecodeOps unchanged, and the empty batch.
func TestOps_RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []Op
	}{{"OK", codecOps()}, {"OK/Empty", []Op{}}, {"OK/One", sampleOps(1)}} {
		t.Run(tc.name, func(t *testing.T) {
			b := AppendOps(nil, tc.ops)
			got, err := DecodeOps(b, len(tc.ops))
			if err != nil {
				t.Fatalf("DecodeOps: %v", err)
			}
			if !reflect.DeepEqual(got, tc.ops) {
				t.Errorf("DecodeOps = %+v\nwant %+v", got, tc.ops)
			}
		})
	}
}

// Ensure the ops own their payloads: a reused input buffer (a bbolt page
// once its transaction ends) must not change them.
func TestOps_DecodeCopies(t *testing.T) {
	ops := codecOps()
	b := AppendOps(nil, ops)
	got, err := DecodeOps(b, len(ops))
	if err != nil {
		t.Fatal(err)
	}
	clear(b)
	if !reflect.DeepEqual(got, ops) {
		t.Errorf("ops changed with their input buffer")
	}
}

// Ensure every malformed encoding is refused with bad_frame (too_large
// for too many ops) and no truncation of a valid one is accepted.
func TestOps_DecodeErrors(t *testing.T) {
	valid := AppendOps(nil, codecOps())
	n := len(codecOps())
	t.Run("ErrBadFrame/EveryTruncation", func(t *testing.T) {
		for i := range len(valid) {
			if _, err := DecodeOps(valid[:i], n); ErrorCode(err) != CodeBadFrame {
				t.Fatalf("DecodeOps of the first %d of %d bytes = %v, want %s", i, len(valid), err, CodeBadFrame)
			}
		}
	})
	one := AppendOps(nil, sampleOps(1)[:1])
	// Layout of one op with its own kind and actor tables: format, n, id,
	// enquiry ref, hlc, kinds..., actors..., data.
	afterID := 2 + 16
	for _, tc := range []struct {
		name string
		b    []byte
		max  int
		code string
	}{
		{"ErrBadFrame/Empty", nil, 10, CodeBadFrame},
		{"ErrBadFrame/UnknownFormat", append([]byte{opsFormat + 1}, valid[1:]...), n, CodeBadFrame},
		{"ErrBadFrame/CountOverInput", binary.AppendUvarint([]byte{opsFormat}, 1<<40), 1 << 50, CodeBadFrame},
		{"ErrBadFrame/BadVarint", append([]byte{opsFormat}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 10, CodeBadFrame},
		{"ErrTooLarge/Ops", valid, n - 1, CodeTooLarge},
		{"ErrBadFrame/TrailingData", append(append([]byte(nil), valid...), 0), n, CodeBadFrame},
		{"ErrBadFrame/EnquiryBeforeBatch", replaceAt(one, afterID, 5), 1, CodeBadFrame},
		{"ErrBadFrame/KindIndexOutOfTable", oneOp("create", 7, "{}"), 1, CodeBadFrame},
		{"ErrBadFrame/DataNotJSON", oneOp("create", 0, `{"text":`), 1, CodeBadFrame},
		{"ErrBadFrame/StringNotUTF8", oneOp("no\xff", 0, "{}"), 1, CodeBadFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeOps(tc.b, tc.max); ErrorCode(err) != tc.code {
				t.Errorf("DecodeOps = %v, want %s", err, tc.code)
			}
		})
	}
}

func replaceAt(b []byte, i int, v byte) []byte {
	out := append([]byte(nil), b...)
	out[i] = v
	return out
}

// oneOp rebuilds the encoding of a single op field by field, so a test can
// spoil exactly one of them.
func oneOp(kind string, kindIdx int, data string) []byte {
	op := sampleOps(1)[0]
	b := []byte{opsFormat, 1}
	b = append(b, op.ID[:]...)
	b = append(b, 0)
	b = append(b, op.Enquiry[:]...)
	b = binary.AppendVarint(b, int64(op.HLC))
	b = appendString(append(b, 1), kind)
	b = binary.AppendUvarint(b, uint64(kindIdx))
	b = appendString(appendString(appendString(appendString(append(b, 1), op.Actor.Type), op.Actor.ID), op.Actor.Name), op.Actor.Staff)
	b = append(b, 0)
	return appendString(b, data)
}

// Ensure the hand-built encoding the error cases spoil is itself valid.
func TestOps_HandBuilt(t *testing.T) {
	ops, err := DecodeOps(oneOp("note", 0, `{"text":"hi"}`), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleOps(1)[0]
	want.Kind, want.Data = KindNote, json.RawMessage(`{"text":"hi"}`)
	if !reflect.DeepEqual(ops[0], want) {
		t.Errorf("got %+v, want %+v", ops[0], want)
	}
}

// FuzzDecodeOps ensures DecodeOps never panics, refuses only with
// bad_frame or too_large, and that what it accepts encodes and decodes
// back to the same ops.
func FuzzDecodeOps(f *testing.F) {
	f.Add(AppendOps(nil, codecOps()))
	f.Add(AppendOps(nil, nil))
	f.Add(oneOp("note", 0, `{"text":"hi"}`))
	f.Add(oneOp("create", 3, "{}"))
	f.Add([]byte{opsFormat, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		ops, err := DecodeOps(b, 1000)
		if err != nil {
			if code := ErrorCode(err); code != CodeBadFrame && code != CodeTooLarge {
				t.Fatalf("DecodeOps error code = %q (%v)", code, err)
			}
			return
		}
		again, err := DecodeOps(AppendOps(nil, ops), len(ops))
		if err != nil {
			t.Fatalf("DecodeOps of re-encoded ops: %v", err)
		}
		if len(ops) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(again, ops) {
			t.Fatalf("re-encoded ops decode to %+v, want %+v", again, ops)
		}
	})
}
