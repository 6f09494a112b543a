package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cabincare/cabincare/server/care"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// Importer writes parsed records through the care service.
type Importer struct {
	Care *care.Service
	// Actor is who the enquiries' create ops are written by.
	Actor syncproto.Actor
	// BatchSize is how many records share one write (500 if zero).
	BatchSize int
	// Progress, if set, is called after each batch with the bytes read so
	// far and the lines done.
	Progress func(bytesRead int64, lines int)
}

// Summary is what an import did.
type Summary struct {
	Kind       Kind        `json:"kind"`
	File       string      `json:"file,omitempty"`
	Lines      int         `json:"lines"`
	Created    int         `json:"created"`
	Joined     int         `json:"joined"` // enquiries: follow-ups that joined an open enquiry
	Skipped    int         `json:"skipped"`
	Rejected   int         `json:"rejected"`
	Rejections []Rejection `json:"rejections"`
}

// Rejection is a line that was not imported, and why.
type Rejection struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (s *Summary) reject(line int, err error) {
	s.Rejected++
	s.Rejections = append(s.Rejections, Rejection{Line: line, Reason: reason(err)})
}

func reason(err error) string {
	var e *syncproto.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// countingReader counts the bytes read, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Import reads r (of the given kind and format) and writes its records.
// Lines that cannot be read or are refused are rejected with their number
// and reason, and do not stop the import. The error is for the file (a
// bad CSV header, a read error) or the store.
func (im *Importer) Import(ctx context.Context, kind Kind, f Format, r io.Reader) (*Summary, error) {
	sum := &Summary{Kind: kind, Rejections: []Rejection{}}
	cr := &countingReader{r: r}
	size := im.BatchSize
	if size <= 0 {
		size = 500
	}
	progress := func() {
		if im.Progress != nil {
			im.Progress(cr.n, sum.Lines)
		}
	}
	var err error
	switch kind {
	case KindFlights:
		err = ParseFlights(cr, f, func(l Line[care.NewFlight]) error {
			sum.Lines++
			if l.Err != nil {
				sum.reject(l.N, l.Err)
				return nil
			}
			if err := im.flight(ctx, sum, l); err != nil {
				return err
			}
			if sum.Lines%size == 0 {
				progress()
			}
			return ctx.Err()
		})
	case KindManifests:
		var batch []Line[ManifestRecord]
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			ids := make([]string, len(batch))
			ps := make([]care.NewPassenger, len(batch))
			for i, l := range batch {
				ids[i], ps[i] = l.Record.FlightID(), l.Record.Passenger()
			}
			rs, err := im.Care.AddPassengers(ctx, ids, ps)
			if err != nil {
				return err
			}
			for i, r := range rs {
				switch r.Result {
				case store.PutCreated:
					sum.Created++
				case store.PutSkipped:
					sum.Skipped++
				default:
					sum.reject(batch[i].N, r.Err)
				}
			}
			batch = batch[:0]
			progress()
			return ctx.Err()
		}
		err = ParseManifests(cr, f, func(l Line[ManifestRecord]) error {
			sum.Lines++
			if l.Err != nil {
				sum.reject(l.N, l.Err)
				return nil
			}
			if batch = append(batch, l); len(batch) >= size {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
	case KindEnquiries:
		var batch []Line[EnquiryRecord]
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			ins := make([]care.Intake, len(batch))
			for i, l := range batch {
				ins[i] = l.Record.Intake
			}
			rs, err := im.Care.ImportEnquiries(ctx, im.Actor, ins)
			if err != nil {
				return err
			}
			for i, r := range rs {
				switch {
				case r.Err != nil:
					sum.reject(batch[i].N, r.Err)
				case r.Outcome == care.IntakeCreated:
					sum.Created++
				case r.Outcome == care.IntakeJoined:
					sum.Joined++
				default:
					sum.Skipped++
				}
			}
			batch = batch[:0]
			progress()
			return ctx.Err()
		}
		err = ParseEnquiries(cr, f, func(l Line[EnquiryRecord]) error {
			sum.Lines++
			if l.Err != nil {
				sum.reject(l.N, l.Err)
				return nil
			}
			if batch = append(batch, l); len(batch) >= size {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
	default:
		return nil, fmt.Errorf("unknown kind %q (flights, manifests or enquiries)", kind)
	}
	progress()
	if err != nil {
		return sum, err
	}
	return sum, nil
}

// flight creates one flight; the same flight again is skipped, another
// flight with the same id is rejected.
func (im *Importer) flight(ctx context.Context, sum *Summary, l Line[care.NewFlight]) error {
	_, err := im.Care.CreateFlight(ctx, l.Record)
	switch {
	case err == nil:
		sum.Created++
	case syncproto.ErrorCode(err) == syncproto.CodeConflict:
		in := l.Record
		have, gerr := im.Care.Store.Flight(ctx, strings.ToUpper(strings.TrimSpace(in.Number))+"-"+strings.TrimSpace(in.Date))
		if gerr != nil {
			return gerr
		}
		if sameFlight(have, in) {
			sum.Skipped++
		} else {
			sum.reject(l.N, fmt.Errorf("flight %s exists already with other data", have.ID))
		}
	case syncproto.ErrorCode(err) == syncproto.CodeInternal:
		return err
	default:
		sum.reject(l.N, err)
	}
	return nil
}

func sameFlight(have *store.Flight, in care.NewFlight) bool {
	eq := func(a, b *time.Time) bool { return a == nil && b == nil || a != nil && b != nil && a.Equal(*b) }
	up := func(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
	return have.Origin == up(in.Origin) && have.Destination == up(in.Destination) &&
		have.Aircraft == strings.TrimSpace(in.Aircraft) && eq(have.DepartsAt, in.DepartsAt) && eq(have.ArrivesAt, in.ArrivesAt)
}
