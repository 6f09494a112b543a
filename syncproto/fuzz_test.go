package syncproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/google/uuid"
)

// fuzzMaxFrame keeps fuzz inputs that inflate cheap to refuse.
const fuzzMaxFrame = 64 << 10

// FuzzDecodeFrame ensures Decode and Unmarshal never panic on any input,
// refuse bad input only with CodeBadFrame or CodeTooLarge, and that a
// frame they accept re-encodes to the same message.
func FuzzDecodeFrame(f *testing.F) {
	for _, compress := range []bool{false, true} {
		c := NewCodec(fuzzMaxFrame, compress)
		for _, tc := range frameCases() {
			b, err := c.Encode(tc.t, tc.msg)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{byte(FramePush)})
	f.Add([]byte{byte(FramePush), 0x02, '{', '}'})
	f.Add([]byte{byte(FramePush), flagZstd, 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x78})
	f.Add([]byte{byte(FrameReady), 0, '{', '}', '}'})

	codecs := []*Codec{NewCodec(fuzzMaxFrame, false), NewCodec(fuzzMaxFrame, true)}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := codecs[0]
		fr, err := c.Decode(b)
		if err != nil {
			if code := ErrorCode(err); code != CodeBadFrame && code != CodeTooLarge {
				t.Fatalf("Decode error code = %q (%v), want %q or %q", code, err, CodeBadFrame, CodeTooLarge)
			}
			return
		}
		if !fr.Type.Known() {
			t.Fatalf("Decode accepted unknown frame type %d", fr.Type)
		}
		if len(fr.Payload) > fuzzMaxFrame {
			t.Fatalf("Decode returned %d bytes, over MaxFrame %d", len(fr.Payload), fuzzMaxFrame)
		}

		// Ensure the payload decodes the same however it is framed.
		for _, compress := range []bool{false, true} {
			re := append([]byte{byte(fr.Type), 0}, fr.Payload...)
			if compress {
				re = append([]byte{byte(fr.Type), flagZstd}, c.enc.EncodeAll(fr.Payload, nil)...)
			}
			fr2, err := c.Decode(re)
			if err != nil {
				if compress && ErrorCode(err) == CodeTooLarge {
					continue // zstd framing pushed an incompressible payload over the limit
				}
				t.Fatalf("Decode of the reframed payload (compress %v): %v", compress, err)
			}
			if fr2.Type != fr.Type || !bytes.Equal(fr2.Payload, fr.Payload) {
				t.Fatalf("reframed payload (compress %v) decodes to %s %q, want %s %q", compress, fr2.Type, fr2.Payload, fr.Type, fr.Payload)
			}
		}

		// Ensure every message type accepts or refuses it without panicking,
		// and that an accepted one survives Encode, Decode and Unmarshal.
		for _, tc := range frameCases() {
			v := tc.new()
			if err := fr.Unmarshal(v); err != nil {
				if code := ErrorCode(err); code != CodeBadFrame {
					t.Fatalf("Unmarshal into %T: code %q (%v), want %q", v, code, err, CodeBadFrame)
				}
				continue
			}
			want, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("marshal the decoded %T: %v", v, err)
			}
			for _, ec := range codecs {
				b2, err := ec.Encode(fr.Type, v)
				if err != nil {
					if ErrorCode(err) == CodeTooLarge {
						continue // escaping (< to \u003c) can grow a payload past the limit
					}
					t.Fatalf("Encode the decoded %T: %v", v, err)
				}
				fr2, err := ec.Decode(b2)
				if err != nil {
					t.Fatalf("Decode of the re-encoded %T (compress %v): %v", v, ec.Compress, err)
				}
				v2 := tc.new()
				if err := fr2.Unmarshal(v2); err != nil {
					t.Fatalf("Unmarshal of the re-encoded %T: %v\npayload: %s", v, err, fr2.Payload)
				}
				if got, err := json.Marshal(v2); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("re-encoded %T decodes to %s (%v), want %s", v, got, err, want)
				}
			}
		}
	})
}

// fuzzMaxOps keeps one fuzz input's fold cheap.
const fuzzMaxOps = 64

// FuzzOpValidateAndFold ensures Validate and Fold never panic on any op
// list, that Validate refuses only with the codes it documents, and that
// Fold is permutation- and duplication-invariant and agrees with the
// incremental fold the stores use.
func FuzzOpValidateAndFold(f *testing.F) {
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 1))
		b, err := json.Marshal(genOps(r))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, seed)
	}
	f.Add([]byte(`[]`), uint64(0))
	f.Add([]byte(`[{}]`), uint64(0))
	f.Add([]byte(`[{"kind":"note","data":{"text":"x"}},{"kind":"create","data":{"channel":"web"}}]`), uint64(1))
	f.Add([]byte(`[{"id":"0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b","kind":"close","hlc":1,"data":{"force":"yes"}}]`), uint64(2))

	f.Fuzz(func(t *testing.T, b []byte, seed uint64) {
		var ops []Op
		if err := json.Unmarshal(b, &ops); err != nil || len(ops) > fuzzMaxOps {
			return
		}
		for i := range ops {
			err := ops[i].Validate()
			if err == nil {
				continue
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Validate of op %d = %v (%T), want an *Error", i, err, err)
			}
			if perr.Code != CodeInvalid && perr.Code != CodeForbidden {
				t.Fatalf("Validate of op %d: code %q, want %q or %q", i, perr.Code, CodeInvalid, CodeForbidden)
			}
		}

		// Ops are immutable by id: stores keep the first copy of an id and
		// answer "duplicate" to any other, so the fold never sees two
		// different ops with one id.
		seen := make(map[uuid.UUID]bool)
		uniq := ops[:0:0]
		for _, op := range ops {
			if !seen[op.ID] {
				seen[op.ID] = true
				uniq = append(uniq, op)
			}
		}

		want := Fold(uniq)
		r := rand.New(rand.NewPCG(seed, 2))
		perm := append([]Op(nil), uniq...)
		r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		sameState(t, "permutation", Fold(perm), want, uniq)
		if len(uniq) > 0 {
			dups := withDuplicates(r, uniq)
			sameState(t, "duplicates", Fold(dups), want, uniq)
			inc, _ := foldLikeStore(t, dups, false)
			sameState(t, "incremental fold", inc, want, uniq)
		}
	})
}

// sameState fails unless got and want are the same state. It compares the
// JSON encodings where there are some: an HLC past year 9999 cannot be
// encoded, so fall back to reflect.DeepEqual.
func sameState(t *testing.T, name string, got, want Enquiry, ops []Op) {
	t.Helper()
	gb, gerr := json.Marshal(&got)
	wb, werr := json.Marshal(&want)
	if (gerr == nil) != (werr == nil) || (gerr == nil && !bytes.Equal(gb, wb)) || (gerr != nil && !reflect.DeepEqual(got, want)) {
		ob, _ := json.Marshal(ops)
		t.Fatalf("Fold of a %s differs:\n got: %s (%v)\nwant: %s (%v)\nops: %s", name, gb, gerr, wb, werr, ob)
	}
}
