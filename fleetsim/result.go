package fleetsim

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Figure is one measured value.
type Figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// Result is what a scenario measured.
type Result struct {
	Scenario string         `json:"scenario"`
	Params   map[string]any `json:"params"`
	Figures  []Figure       `json:"figures"`
}

func (r *Result) add(name string, v float64, unit string) {
	r.Figures = append(r.Figures, Figure{Name: name, Value: v, Unit: unit})
}

func (r *Result) addDuration(name string, d time.Duration) {
	r.add(name, float64(d.Microseconds())/1000, "ms")
}

// addLatencies adds p50, p95, p99 and max of ds.
func (r *Result) addLatencies(name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	pick := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	r.addDuration(name+" p50", pick(0.50))
	r.addDuration(name+" p95", pick(0.95))
	r.addDuration(name+" p99", pick(0.99))
	r.addDuration(name+" max", ds[len(ds)-1])
}

// Get returns a figure's value by name.
func (r *Result) Get(name string) (float64, bool) {
	for _, f := range r.Figures {
		if f.Name == name {
			return f.Value, true
		}
	}
	return 0, false
}

// WriteTable prints the result for people.
func (r *Result) WriteTable(w io.Writer) {
	var ps []string
	for k, v := range r.Params {
		ps = append(ps, fmt.Sprintf("%s=%v", k, v))
	}
	slices.Sort(ps)
	fmt.Fprintf(w, "\n== %s (%s)\n", r.Scenario, strings.Join(ps, " "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", f.Name, formatValue(f.Value), f.Unit)
	}
	tw.Flush()
}

func formatValue(v float64) string {
	switch {
	case v == float64(int64(v)):
		return fmt.Sprintf("%d", int64(v))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// WriteJSON prints the result as one JSON line.
func (r *Result) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(r)
}
