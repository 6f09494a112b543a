package syncproto

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The care tests keep their own fixtures so they do not depend on the
// helpers of fold_test.go.
var (
	careEnq    = uuid.MustParse("0190a1b2-c3d4-7e5f-8a6b-000000000001")
	careOther  = uuid.MustParse("0190a1b2-c3d4-7e5f-8a6b-000000000002")
	careAgent  = Actor{Type: ActorAgent, ID: "agent-7", Name: "Ana Agent"}
	careSystem = Actor{Type: ActorSystem, ID: "intake"}
	careCrew   = Actor{Type: ActorDevice, ID: "tab-1", Name: "Carla Crew"}
	careT0     = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
)

// cid returns a UUIDv7 whose order is n's order.
func cid(n int) uuid.UUID {
	var u uuid.UUID
	u[4], u[5] = byte(n>>8), byte(n)
	u[6], u[8] = 0x70, 0x80
	return u
}

// cat is the HLC min minutes after careT0.
func cat(min int) HLC { return MakeHLC(careT0.Add(time.Duration(min)*time.Minute).UnixMilli(), 0) }

func cop(n, min int, a Actor, k Kind, data any) Op {
	op := Op{ID: cid(n), Enquiry: careEnq, Kind: k, HLC: cat(min), Actor: a}
	if data != nil {
		op.Data = MustData(data)
	}
	return op
}

func cCreate() Op {
	return cop(1, 0, careSystem, KindCreate, CreateData{Channel: "messenger", ExternalID: "ms-1", Handle: "anna.devries", Customer: "Anna de Vries", Text: "My meal was cold on KL641.", Language: "en", ReceivedAt: careT0})
}

func cMessage(n, min int, text string) Op {
	return cop(n, min, careSystem, KindMessage, MessageData{ExternalID: "ms-" + text, Text: text, ReceivedAt: careT0.Add(time.Duration(min) * time.Minute)})
}

func cReply(n, min int, text string) Op {
	return cop(n, min, careAgent, KindReply, ReplyData{Text: text, TemplateID: "sorry-en", SentAt: careT0.Add(time.Duration(min) * time.Minute)})
}

func cAssign(n, min int) Op {
	return cop(n, min, careAgent, KindAssign, AssignData{FlightID: "KL0642-2026-11-26", PassengerName: "Anna de Vries", Seat: "33B"})
}

func cOutcome(n, min int, s Status) Op {
	return cop(n, min, careCrew, KindOutcome, OutcomeData{Outcome: s, Note: "spoke to her"})
}

func cptr[T any](v T) *T { return &v }

func TestValidate_Care(t *testing.T) {
	long := strings.Repeat("a", MaxTextLen+1)
	for _, tc := range []struct {
		name string
		op   Op
		code string
	}{
		{"OK/Message", cMessage(2, 1, "Any news?"), ""},
		{"OK/Reply", cReply(2, 1, "We are on it."), ""},
		{"OK/MergeInto", cop(2, 1, careAgent, KindMerge, MergeData{Into: cptr(careOther), Reason: "same customer"}), ""},
		{"OK/MergeFrom", cop(2, 1, careAgent, KindMerge, MergeData{From: cptr(careOther), Messages: []Message{{ID: cid(9), Text: "hi", At: careT0}}}), ""},
		{"ErrMessageNoText", cop(2, 1, careSystem, KindMessage, MessageData{ExternalID: "x", ReceivedAt: careT0}), CodeInvalid},
		{"ErrMessageNoExternalID", cop(2, 1, careSystem, KindMessage, MessageData{Text: "x", ReceivedAt: careT0}), CodeInvalid},
		{"ErrMessageNoTime", cop(2, 1, careSystem, KindMessage, MessageData{ExternalID: "x", Text: "x"}), CodeInvalid},
		{"ErrMessageLong", cop(2, 1, careSystem, KindMessage, MessageData{ExternalID: "x", Text: long, ReceivedAt: careT0}), CodeInvalid},
		{"ErrMessageByDevice", cop(2, 1, careCrew, KindMessage, MessageData{ExternalID: "x", Text: "x", ReceivedAt: careT0}), CodeForbidden},
		{"ErrReplyByDevice", cop(2, 1, careCrew, KindReply, ReplyData{Text: "x", SentAt: careT0}), CodeForbidden},
		{"ErrReplyNoText", cop(2, 1, careAgent, KindReply, ReplyData{SentAt: careT0}), CodeInvalid},
		{"ErrReplyNoSentAt", cop(2, 1, careAgent, KindReply, ReplyData{Text: "x"}), CodeInvalid},
		{"ErrMergeNeither", cop(2, 1, careAgent, KindMerge, MergeData{}), CodeInvalid},
		{"ErrMergeBoth", cop(2, 1, careAgent, KindMerge, MergeData{Into: cptr(careOther), From: cptr(careOther)}), CodeInvalid},
		{"ErrMergeSelf", cop(2, 1, careAgent, KindMerge, MergeData{Into: cptr(careEnq)}), CodeInvalid},
		{"ErrMergeIntoWithThread", cop(2, 1, careAgent, KindMerge, MergeData{Into: cptr(careOther), Messages: []Message{{Text: "x"}}}), CodeInvalid},
		{"ErrMergeNil", cop(2, 1, careAgent, KindMerge, MergeData{Into: cptr(uuid.Nil)}), CodeInvalid},
		{"ErrMergeByDevice", cop(2, 1, careCrew, KindMerge, MergeData{Into: cptr(careOther)}), CodeForbidden},
		{"ErrUnknownField", func() Op {
			o := cReply(2, 1, "x")
			o.Data = json.RawMessage(`{"text":"x","sent_at":"2026-11-23T09:00:00Z","colour":1}`)
			return o
		}(), CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.op.Validate()
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != tc.code {
				t.Fatalf("Validate = %v, want code %s", err, tc.code)
			}
		})
	}
}

// Ensure the thread keeps every customer message with its time, in time
// order, whatever order the ops arrive in.
func TestFold_Thread(t *testing.T) {
	ops := []Op{cCreate(), cMessage(3, 20, "second"), cMessage(2, 10, "first follow-up")}
	e := Fold(ops)
	var texts []string
	for _, m := range e.Messages {
		texts = append(texts, m.Text)
	}
	if got, want := strings.Join(texts, "|"), "My meal was cold on KL641.|first follow-up|second"; got != want {
		t.Errorf("thread = %q, want %q", got, want)
	}
	if got, want := e.LastMessageAt, careT0.Add(20*time.Minute); !got.Equal(want) {
		t.Errorf("LastMessageAt = %s, want %s", got, want)
	}
	if e.AwaitingSince == nil || !e.AwaitingSince.Equal(careT0) {
		t.Errorf("AwaitingSince = %v, want the first message %s", e.AwaitingSince, careT0)
	}
	if e.Flagged {
		t.Error("Flagged = true before any outcome")
	}
	if got, want := e.Messages[0].ID, cid(1); got != want {
		t.Errorf("first message id = %s, want the create op %s", got, want)
	}
}

// Ensure the first reply is the first response, and a reply answers
// everything before it.
func TestFold_Reply(t *testing.T) {
	e := Fold([]Op{cCreate(), cReply(2, 12, "Sorry to hear, we are on it."), cMessage(3, 30, "thanks!"), cReply(4, 45, "You're welcome.")})
	if e.FirstResponse == nil || !e.FirstResponse.At.Equal(careT0.Add(12*time.Minute)) || e.FirstResponse.By != "Ana Agent" {
		t.Fatalf("FirstResponse = %+v, want 09:12 by Ana Agent", e.FirstResponse)
	}
	if got, want := len(e.Replies), 2; got != want {
		t.Fatalf("replies = %d, want %d", got, want)
	}
	if e.AwaitingSince != nil {
		t.Errorf("AwaitingSince = %v, want nil after the last reply", e.AwaitingSince)
	}
	// The follow-up after the first reply was owed until the second.
	e = Fold([]Op{cCreate(), cReply(2, 12, "on it"), cMessage(3, 30, "any news?")})
	if e.AwaitingSince == nil || !e.AwaitingSince.Equal(careT0.Add(30*time.Minute)) {
		t.Errorf("AwaitingSince = %v, want the follow-up's time", e.AwaitingSince)
	}
}

// Ensure a message after the crew's outcome flags the enquiry, and that an
// agent's reply, reassignment or close clears the flag.
func TestFold_FlagAfterOutcome(t *testing.T) {
	base := []Op{cCreate(), cAssign(2, 5), cOutcome(3, 60, StatusNotResolved)}
	if e := Fold(base); e.Flagged {
		t.Fatal("flagged without a late message")
	}
	late := append(append([]Op(nil), base...), cMessage(4, 90, "nobody came to my seat"))
	e := Fold(late)
	if !e.Flagged {
		t.Fatal("Flagged = false after a message that followed the outcome")
	}
	if got, want := e.Status, StatusNotResolved; got != want {
		t.Errorf("Status = %s, want %s", got, want)
	}
	// A message before the outcome does not flag.
	if e := Fold([]Op{cCreate(), cAssign(2, 5), cMessage(4, 30, "any news?"), cOutcome(3, 60, StatusResolved)}); e.Flagged {
		t.Error("flagged by a message that came before the outcome")
	}
	for name, clear := range map[string]Op{
		"Reply":  cReply(5, 100, "Sorry, we will check."),
		"Assign": cAssign(5, 100),
		"Close":  cop(5, 100, careAgent, KindClose, CloseData{}),
	} {
		if e := Fold(append(append([]Op(nil), late...), clear)); e.Flagged {
			t.Errorf("%s: still flagged", name)
		}
	}
}

// Ensure an escalated outcome returns the enquiry to the ground queue.
func TestFold_EscalatedAwaits(t *testing.T) {
	e := Fold([]Op{cCreate(), cReply(2, 3, "on it"), cAssign(3, 5), cOutcome(4, 60, StatusEscalated)})
	if e.AwaitingSince == nil || !e.AwaitingSince.Equal(careT0.Add(60*time.Minute)) {
		t.Errorf("AwaitingSince = %v, want the escalation time", e.AwaitingSince)
	}
}

// Ensure the care rules refuse what they must, and the fold keeps the
// refused op as ignored.
func TestFold_CareRules(t *testing.T) {
	closed := []Op{cCreate(), cop(2, 5, careAgent, KindClose, CloseData{})}
	assigned := []Op{cCreate(), cAssign(2, 5)}
	for _, tc := range []struct {
		name string
		base []Op
		op   Op
	}{
		{"MessageOnClosed", closed, cMessage(3, 10, "hello?")},
		{"ReplyOnClosed", closed, cReply(3, 10, "hi")},
		{"MergeClosed", closed, cop(3, 10, careAgent, KindMerge, MergeData{Into: cptr(careOther)})},
		{"MergeAwayAssigned", assigned, cop(3, 10, careAgent, KindMerge, MergeData{Into: cptr(careOther)})},
		{"MergeFromTwice", []Op{cCreate(), cop(2, 5, careAgent, KindMerge, MergeData{From: cptr(careOther)})}, cop(3, 10, careAgent, KindMerge, MergeData{From: cptr(careOther)})},
		{"UnknownKind", []Op{cCreate()}, cop(3, 10, careAgent, Kind("upgrade"), map[string]string{"cabin": "business"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := Fold(tc.base)
			if err := before.Check(&tc.op); err == nil {
				t.Fatalf("Check = nil, want an error")
			}
			after := Fold(append(append([]Op(nil), tc.base...), tc.op))
			last := after.History[len(after.History)-1]
			if last.OpID != tc.op.ID || last.Effect != EffectIgnored || last.Reason == "" {
				t.Fatalf("last entry = %+v, want the op ignored with a reason", last)
			}
			if got, want := after.Status, before.Status; got != want {
				t.Errorf("Status = %s, want %s", got, want)
			}
			if got, want := len(after.Messages), len(before.Messages); got != want {
				t.Errorf("messages = %d, want %d", got, want)
			}
		})
	}
}

// Ensure a merge closes the absorbed enquiry with a pointer and gives the
// survivor both threads.
func TestFold_Merge(t *testing.T) {
	absorbed := Fold([]Op{cCreate(), cop(2, 10, careAgent, KindMerge, MergeData{Into: cptr(careOther), Reason: "same customer, same flight"})})
	if got, want := absorbed.Status, StatusClosed; got != want {
		t.Errorf("absorbed Status = %s, want %s", got, want)
	}
	if absorbed.MergedInto == nil || *absorbed.MergedInto != careOther || absorbed.Closed == nil {
		t.Errorf("absorbed MergedInto = %v, Closed = %v", absorbed.MergedInto, absorbed.Closed)
	}
	if absorbed.AwaitingSince != nil {
		t.Errorf("absorbed AwaitingSince = %v, want nil", absorbed.AwaitingSince)
	}

	thread := []Message{{ID: cid(50), ExternalID: "ms-50", Text: "earlier, on the other thread", At: careT0.Add(-30 * time.Minute)}}
	survivor := Fold([]Op{cCreate(), cReply(2, 5, "on it"), cop(3, 10, careAgent, KindMerge, MergeData{From: cptr(careOther), Messages: thread, AwaitingSince: cptr(careT0.Add(-30 * time.Minute))})})
	if got, want := len(survivor.Messages), 2; got != want {
		t.Fatalf("survivor messages = %d, want %d", got, want)
	}
	if m := survivor.Messages[0]; m.Text != thread[0].Text || m.From == nil || *m.From != careOther {
		t.Errorf("first message = %+v, want the merged one from %s first", m, careOther)
	}
	if survivor.AwaitingSince == nil || !survivor.AwaitingSince.Equal(careT0.Add(-30*time.Minute)) {
		t.Errorf("survivor AwaitingSince = %v, want the absorbed thread's", survivor.AwaitingSince)
	}
	if len(survivor.Merged) != 1 || survivor.Merged[0] != careOther {
		t.Errorf("Merged = %v, want [%s]", survivor.Merged, careOther)
	}
}

// Ensure care ops converge like the rest: any permutation and duplication
// of an op set folds to the same state, and incremental Apply equals Fold.
func TestFold_CareConverges(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for round := range 300 {
		ops := []Op{cCreate()}
		n := 2
		for range 3 + r.IntN(10) {
			min := r.IntN(200)
			switch r.IntN(7) {
			case 0:
				ops = append(ops, cMessage(n, min, "m"))
			case 1:
				ops = append(ops, cReply(n, min, "r"))
			case 2:
				ops = append(ops, cAssign(n, min))
			case 3:
				ops = append(ops, cOutcome(n, min, []Status{StatusResolved, StatusEscalated, StatusNotResolved}[r.IntN(3)]))
			case 4:
				ops = append(ops, cop(n, min, careAgent, KindMerge, MergeData{From: cptr(cid(1000 + r.IntN(3))), Messages: []Message{{ID: cid(2000 + n), Text: "merged", At: careT0.Add(time.Duration(r.IntN(100)) * time.Minute)}}}))
			case 5:
				ops = append(ops, cop(n, min, careAgent, KindMerge, MergeData{Into: cptr(careOther)}))
			case 6:
				ops = append(ops, cop(n, min, careAgent, KindClose, CloseData{Force: true, Reason: "done"}))
			}
			n++
		}
		want := Fold(ops)
		wantJSON, _ := json.Marshal(want)
		shuffled := append(append([]Op(nil), ops...), ops[r.IntN(len(ops))])
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got, _ := json.Marshal(Fold(shuffled)); string(got) != string(wantJSON) {
			t.Fatalf("round %d: permuted fold differs:\n got %s\nwant %s", round, got, wantJSON)
		}
		// Incrementally, in fold order, through Clone and Apply.
		sorted := SortOps(ops)
		var inc Enquiry
		inc.Apply(&sorted[0])
		for i := 1; i < len(sorted); i++ {
			c := inc.Clone()
			c.Apply(&sorted[i])
			inc = c
		}
		if got, _ := json.Marshal(inc); string(got) != string(wantJSON) {
			t.Fatalf("round %d: incremental fold differs:\n got %s\nwant %s", round, got, wantJSON)
		}
	}
}
