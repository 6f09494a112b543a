package syncproto

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// Ensure ids are valid UUIDv7, unique, ordered by time then issue order,
// and carry the source's node.
func TestIDs(t *testing.T) {
	g := NewIDs()
	now := time.UnixMilli(1_800_000_000_000)
	g.Now = func() time.Time { return now }
	seen := map[uuid.UUID]bool{}
	var prev uuid.UUID
	for i := range 100_000 {
		if i%1000 == 0 {
			now = now.Add(time.Millisecond)
		}
		id := g.New()
		if id.Version() != 7 || id.Variant() != uuid.RFC4122 {
			t.Fatalf("id %s: version %d variant %v", id, id.Version(), id.Variant())
		}
		if seen[id] {
			t.Fatalf("id %s issued twice", id)
		}
		seen[id] = true
		if i > 0 && string(id[:]) <= string(prev[:]) {
			t.Fatalf("id %s does not sort after %s", id, prev)
		}
		prev = id
	}
	// Two sources differ in their node bits.
	a, b := NewIDs().New(), NewIDs().New()
	if [3]byte(a[9:12]) == [3]byte(b[9:12]) { // bytes 9-11 hold only node bits
		t.Fatalf("two sources drew the same node: %s %s", a, b)
	}
	op := Op{ID: g.New(), Enquiry: g.New(), Kind: KindNote, HLC: MakeHLC(now.UnixMilli(), 0), Actor: Actor{Type: ActorAgent, ID: "a"}, Data: MustData(NoteData{Text: "x"})}
	if err := op.Validate(); err != nil {
		t.Fatalf("an op with these ids does not validate: %v", err)
	}
}
