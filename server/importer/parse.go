package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cabincare/cabincare/server/care"
)

// Kind is what a file holds.
type Kind string

// Kinds.
const (
	KindFlights   Kind = "flights"
	KindManifests Kind = "manifests"
	KindEnquiries Kind = "enquiries"
)

// Kinds lists the kinds, in the order a data set is loaded.
var Kinds = []Kind{KindFlights, KindManifests, KindEnquiries}

// Format is a file format.
type Format string

// Formats.
const (
	NDJSON Format = "ndjson" // one JSON object per line
	CSV    Format = "csv"    // a header row, then one record per row
)

// MaxLine is the longest line (NDJSON) or record (CSV) accepted, in bytes.
const MaxLine = 1 << 20

// DetectFormat guesses the format from a file name: .csv is CSV; .ndjson,
// .jsonl and .json are NDJSON.
func DetectFormat(name string) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV, nil
	case ".ndjson", ".jsonl", ".json":
		return NDJSON, nil
	}
	return "", fmt.Errorf("cannot tell the format of %s from its extension (.ndjson, .jsonl or .csv); use --format", name)
}

// DetectKind guesses the kind from a file name (flights*, manifest*,
// passenger*, enquir*).
func DetectKind(name string) (Kind, error) {
	base := strings.ToLower(filepath.Base(name))
	switch {
	case strings.HasPrefix(base, "flight"):
		return KindFlights, nil
	case strings.HasPrefix(base, "manifest"), strings.HasPrefix(base, "passenger"):
		return KindManifests, nil
	case strings.HasPrefix(base, "enquir"), strings.HasPrefix(base, "inquir"):
		return KindEnquiries, nil
	}
	return "", fmt.Errorf("cannot tell what %s holds from its name; use --kind flights|manifests|enquiries", name)
}

// FlightRef is a flight by number and date, as manifests name the other
// flights of a booking.
type FlightRef struct {
	Flight string `json:"flight"`
	Date   string `json:"date"`
}

// ID is the flight id (NUMBER-DATE).
func (f FlightRef) ID() string {
	return strings.ToUpper(strings.TrimSpace(f.Flight)) + "-" + strings.TrimSpace(f.Date)
}

// ManifestRecord is one manifest line: a passenger on one flight.
type ManifestRecord struct {
	Flight       string            `json:"flight"`
	Date         string            `json:"date"`
	Name         string            `json:"name"`
	PNR          string            `json:"pnr"`
	Seat         string            `json:"seat"`
	Cabin        string            `json:"cabin"`
	Tier         string            `json:"tier"`
	Handles      map[string]string `json:"handles"`
	OtherFlights []FlightRef       `json:"other_flights"`
}

// FlightID is the id of the passenger's flight.
func (m *ManifestRecord) FlightID() string { return FlightRef{m.Flight, m.Date}.ID() }

// Passenger is the record as the care service takes it.
func (m *ManifestRecord) Passenger() care.NewPassenger {
	p := care.NewPassenger{Name: m.Name, PNR: m.PNR, Seat: m.Seat, Cabin: m.Cabin, Tier: m.Tier, Handles: m.Handles}
	for _, f := range m.OtherFlights {
		p.OtherFlights = append(p.OtherFlights, f.ID())
	}
	return p
}

// EnquiryRecord is one social message. Flight, Date, Seat and
// Instructions are accepted and ignored: they are the sample set's ground
// truth (testdata/README.md), which an import must not use.
type EnquiryRecord struct {
	care.Intake
	Flight       string `json:"flight"`
	Date         string `json:"date"`
	Seat         string `json:"seat"`
	Instructions string `json:"instructions"`
}

// Line is one parsed line: its number (1-based, as an editor shows it),
// and the record or why it could not be read.
type Line[T any] struct {
	N      int
	Record T
	Err    error
}

// ParseFlights reads flights and calls fn for each line.
func ParseFlights(r io.Reader, f Format, fn func(Line[care.NewFlight]) error) error {
	return parse(r, f, flightColumns, func(row map[string]string, rec *care.NewFlight) error {
		rec.Number, rec.Date, rec.Origin, rec.Destination, rec.Aircraft = row["number"], row["date"], row["origin"], row["destination"], row["aircraft"]
		var err error
		if rec.DepartsAt, err = optTime("departs_at", row["departs_at"]); err != nil {
			return err
		}
		rec.ArrivesAt, err = optTime("arrives_at", row["arrives_at"])
		return err
	}, fn)
}

// ParseManifests reads manifest lines and calls fn for each line.
func ParseManifests(r io.Reader, f Format, fn func(Line[ManifestRecord]) error) error {
	return parse(r, f, manifestColumns, func(row map[string]string, rec *ManifestRecord) error {
		rec.Flight, rec.Date, rec.Name, rec.PNR, rec.Seat = row["flight"], row["date"], row["name"], row["pnr"], row["seat"]
		rec.Cabin, rec.Tier = row["cabin"], row["tier"]
		rec.Handles = map[string]string{}
		for _, kv := range splitList(row["handles"]) {
			ch, h, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("handles: %q is not channel=handle", kv)
			}
			rec.Handles[strings.TrimSpace(ch)] = strings.TrimSpace(h)
		}
		for _, id := range splitList(row["other_flights"]) {
			num, date, ok := strings.Cut(id, "-")
			if !ok {
				return fmt.Errorf("other_flights: %q is not a flight id such as KL0642-2026-11-26", id)
			}
			rec.OtherFlights = append(rec.OtherFlights, FlightRef{Flight: num, Date: date})
		}
		return nil
	}, fn)
}

// ParseEnquiries reads social messages and calls fn for each line.
func ParseEnquiries(r io.Reader, f Format, fn func(Line[EnquiryRecord]) error) error {
	return parse(r, f, enquiryColumns, func(row map[string]string, rec *EnquiryRecord) error {
		in := &rec.Intake
		in.Channel, in.ExternalID, in.Handle, in.Customer = row["channel"], row["external_id"], row["handle"], row["customer"]
		in.Text, in.Language, in.Thread = row["text"], row["language"], row["thread"]
		rec.Flight, rec.Date, rec.Seat, rec.Instructions = row["flight"], row["date"], row["seat"], row["instructions"]
		var err error
		if in.ReceivedAt, err = optTime("received_at", row["received_at"]); err != nil {
			return err
		}
		if v := strings.TrimSpace(row["public"]); v != "" {
			if in.Public, err = strconv.ParseBool(v); err != nil {
				return fmt.Errorf("public: %q is not true or false", v)
			}
		}
		if v := strings.TrimSpace(row["followers"]); v != "" {
			if in.Followers, err = strconv.Atoi(v); err != nil {
				return fmt.Errorf("followers: %q is not a whole number", v)
			}
		}
		return nil
	}, fn)
}

// CSV columns per kind; every column is optional except that a file must
// not have columns the kind does not know.
var (
	flightColumns   = []string{"number", "date", "origin", "destination", "departs_at", "arrives_at", "aircraft"}
	manifestColumns = []string{"flight", "date", "name", "pnr", "seat", "cabin", "tier", "handles", "other_flights"}
	enquiryColumns  = []string{"channel", "external_id", "handle", "customer", "text", "language", "received_at", "public", "followers", "thread", "flight", "date", "seat", "instructions"}
)

func optTime(name, v string) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not an RFC 3339 time such as 2026-11-23T10:15:00Z", name, v)
	}
	return &t, nil
}

// splitList splits "a;b; c" into its non-empty parts.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parse[T any](r io.Reader, f Format, cols []string, fromRow func(map[string]string, *T) error, fn func(Line[T]) error) error {
	switch f {
	case NDJSON:
		return parseNDJSON(r, fn)
	case CSV:
		return parseCSV(r, cols, fromRow, fn)
	}
	return fmt.Errorf("unknown format %q", f)
}

// parseNDJSON decodes each line strictly: one JSON object with known
// fields and nothing after it. Blank lines are skipped; a line over
// MaxLine is rejected and skipped whole.
func parseNDJSON[T any](r io.Reader, fn func(Line[T]) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, tooLong, err := readLine(br)
		if err != nil && err != io.EOF {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if len(bytes.TrimSpace(line)) > 0 || tooLong {
			l := Line[T]{N: n}
			if tooLong {
				l.Err = fmt.Errorf("the line is longer than %d bytes", MaxLine)
			} else {
				l.Err = decodeStrict(line, &l.Record)
			}
			if ferr := fn(l); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads one line without its end. A line over MaxLine is read to
// its end and dropped (tooLong). err is io.EOF at the last line.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > MaxLine+2 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil && err != io.EOF:
			return nil, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if err == io.EOF && len(line) == 0 && !tooLong {
			return nil, false, io.EOF
		}
		return line, tooLong, err
	}
}

func decodeStrict(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return fmt.Errorf("field %q must be %s, not %s", te.Field, te.Type, te.Value)
		case errors.As(err, &se):
			return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, se)
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return errors.New("malformed JSON: unexpected end")
		}
		return fmt.Errorf("%v", err)
	}
	if rest := bytes.TrimSpace(line[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("unexpected data after the JSON object at byte %d", dec.InputOffset())
	}
	if bytes.HasPrefix(bytes.TrimSpace(line), []byte("null")) {
		return errors.New("the line is null, not an object")
	}
	return nil
}

// parseCSV reads a header row naming the columns (in any order, each
// known to the kind), then one record per row. A row with the wrong number
// of fields or bad quoting is rejected; the rows after it still count.
func parseCSV[T any](r io.Reader, cols []string, fromRow func(map[string]string, *T) error, fn func(Line[T]) error) error {
	cr := csv.NewReader(&limitedLines{r: bufio.NewReader(r)})
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("line 1: the header row: %w", err)
	}
	names := make([]string, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(cols, h) {
			return fmt.Errorf("line 1: unknown column %q (known: %s)", h, strings.Join(cols, ", "))
		}
		if slices.Contains(names[:i], h) {
			return fmt.Errorf("line 1: column %q appears twice", h)
		}
		names[i] = h
	}
	cr.FieldsPerRecord = len(names)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var l Line[T]
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			l = Line[T]{N: pe.StartLine, Err: fmt.Errorf("%v", pe.Err)}
		case err != nil:
			return err
		default:
			// FieldPos is valid only for a record read without error.
			l.N, _ = cr.FieldPos(0)
			row := make(map[string]string, len(names))
			for i, n := range names {
				row[n] = rec[i]
			}
			l.Err = fromRow(row, &l.Record)
		}
		if ferr := fn(l); ferr != nil {
			return ferr
		}
	}
}

// limitedLines fails a read of a line over MaxLine, so one endless quoted
// field cannot take all memory.
type limitedLines struct {
	r   *bufio.Reader
	run int // bytes since the last newline
}

func (l *limitedLines) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.run = 0
		} else if l.run++; l.run > MaxLine {
			return 0, fmt.Errorf("a line is longer than %d bytes", MaxLine)
		}
	}
	return n, err
}
