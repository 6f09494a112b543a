package care

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// Figure windows.
const (
	// MetricsRefresh is how often the headline figures are recomputed:
	// they are computed for the start of the current 5-minute bucket and
	// cached until the next one.
	MetricsRefresh = 5 * time.Minute
	// AverageWindow is the window of the average first-response time.
	AverageWindow = time.Hour
	// ShareWindow is the window of the shares answered in time.
	ShareWindow = 7 * 24 * time.Hour
)

// ResponseMetrics are the headline response-time figures.
type ResponseMetrics struct {
	// AsOf is the start of the 5-minute bucket the figures were computed
	// for; they are refreshed at the next bucket.
	AsOf time.Time `json:"as_of"`
	// AverageFirstResponseSeconds is the mean first-response time of the
	// first responses sent in the hour before AsOf (nil if none);
	// FirstResponses is how many there were.
	AverageFirstResponseSeconds *float64 `json:"average_first_response_seconds"`
	AverageFirstResponseMinutes *float64 `json:"average_first_response_minutes"`
	FirstResponses              int      `json:"first_responses"`
	// Within5m and Within60m are the shares of the enquiries received in
	// the 7 days before AsOf answered within 5 and 60 minutes. An enquiry
	// counts once its fate is known: answered, or older than the limit
	// without an answer (a miss). Nil when no enquiry counts.
	Within5m   *float64 `json:"answered_within_5m"`
	Within60m  *float64 `json:"answered_within_60m"`
	Counted5m  int      `json:"counted_5m"`
	Counted60m int      `json:"counted_60m"`
	// OpenCount and OldestOpenSeconds are live (as of Now): enquiries not
	// closed, and the age of the oldest.
	OpenCount         int       `json:"open_count"`
	OldestOpenSeconds *float64  `json:"oldest_open_seconds"`
	Now               time.Time `json:"now"`
	SLAMinutes        float64   `json:"sla_minutes"`
}

// metricsCache holds the figures of one 5-minute bucket.
type metricsCache struct {
	mu     sync.Mutex
	bucket time.Time
	m      *ResponseMetrics
}

// ResponseMetrics returns the headline figures: the averages and shares of
// the current 5-minute bucket (computed once per bucket from the stored
// first-response times, by range scans of their time indexes), and the
// open count and oldest open age as of now.
func (s *Service) ResponseMetrics(ctx context.Context) (*ResponseMetrics, error) {
	now := s.Now().UTC()
	asOf := now.Truncate(MetricsRefresh)
	c := &s.metrics
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || !c.bucket.Equal(asOf) {
		m, err := s.computeMetrics(ctx, asOf)
		if err != nil {
			return nil, err
		}
		c.bucket, c.m = asOf, m
	}
	out := *c.m
	n, oldest, err := s.Store.OpenStats(ctx)
	if err != nil {
		return nil, err
	}
	out.OpenCount, out.Now = n, now
	if n > 0 {
		age := max(now.Sub(oldest), 0).Seconds()
		out.OldestOpenSeconds = &age
	}
	return &out, nil
}

func (s *Service) computeMetrics(ctx context.Context, asOf time.Time) (*ResponseMetrics, error) {
	m := &ResponseMetrics{AsOf: asOf, SLAMinutes: s.sla().Minutes()}
	firsts, err := s.Store.Figures(ctx, store.FigureFirstResponse, asOf.Add(-AverageWindow), asOf)
	if err != nil {
		return nil, err
	}
	if len(firsts) > 0 {
		var sum time.Duration
		for _, f := range firsts {
			sum += f.Duration
		}
		avg := (sum / time.Duration(len(firsts))).Seconds()
		mins := avg / 60
		m.AverageFirstResponseSeconds, m.AverageFirstResponseMinutes, m.FirstResponses = &avg, &mins, len(firsts)
	}
	arrivals, err := s.Store.Arrivals(ctx, asOf.Add(-ShareWindow), asOf)
	if err != nil {
		return nil, err
	}
	share := func(limit time.Duration) (*float64, int) {
		counted, ok := 0, 0
		for _, a := range arrivals {
			switch {
			case a.FirstResponse != nil && *a.FirstResponse <= limit && !a.ReceivedAt.Add(*a.FirstResponse).After(asOf):
				counted++
				ok++
			case a.FirstResponse != nil && !a.ReceivedAt.Add(*a.FirstResponse).After(asOf), !a.ReceivedAt.Add(limit).After(asOf):
				counted++ // answered late, or unanswered past the limit
			}
		}
		if counted == 0 {
			return nil, 0
		}
		v := float64(ok) / float64(counted)
		return &v, counted
	}
	m.Within5m, m.Counted5m = share(5 * time.Minute)
	m.Within60m, m.Counted60m = share(60 * time.Minute)
	return m, nil
}

// PublicResponseTime is the figure a social profile can show.
type PublicResponseTime struct {
	AverageMinutes *int      `json:"average_minutes"`
	AsOf           time.Time `json:"as_of"`
	Window         string    `json:"window"`
	Text           string    `json:"text"`
}

// PublicResponseTime is the current average first-response time, rounded
// to whole minutes, with a sentence for a profile banner.
func (s *Service) PublicResponseTime(ctx context.Context, lang string) (*PublicResponseTime, error) {
	m, err := s.ResponseMetrics(ctx)
	if err != nil {
		return nil, err
	}
	p := &PublicResponseTime{AsOf: m.AsOf, Window: "1h"}
	if m.AverageFirstResponseSeconds != nil {
		mins := int(math.Round(*m.AverageFirstResponseSeconds / 60))
		p.AverageMinutes = &mins
	}
	p.Text = BannerText(lang, p.AverageMinutes, int(math.Round(m.SLAMinutes)))
	return p, nil
}

// bannerTexts are the banner sentences per language: with an average
// ("about %d minutes"), under a minute, and without one (the promise).
var bannerTexts = map[string][3]string{
	"en": {"We currently reply in about %d minutes", "We currently reply in under a minute", "We reply within %d minutes"},
	"nl": {"We reageren momenteel binnen ongeveer %d minuten", "We reageren momenteel binnen een minuut", "We reageren binnen %d minuten"},
	"fr": {"Nous répondons actuellement en %d minutes environ", "Nous répondons actuellement en moins d'une minute", "Nous répondons en moins de %d minutes"},
	"es": {"Ahora respondemos en unos %d minutos", "Ahora respondemos en menos de un minuto", "Respondemos en menos de %d minutos"},
	"de": {"Wir antworten derzeit in etwa %d Minuten", "Wir antworten derzeit in unter einer Minute", "Wir antworten innerhalb von %d Minuten"},
	"pt": {"Respondemos atualmente em cerca de %d minutos", "Respondemos atualmente em menos de um minuto", "Respondemos em até %d minutos"},
	"it": {"Al momento rispondiamo in circa %d minuti", "Al momento rispondiamo in meno di un minuto", "Rispondiamo entro %d minuti"},
}

// BannerLanguages are the languages of the banner.
func BannerLanguages() []string {
	out := make([]string, 0, len(bannerTexts))
	for l := range bannerTexts {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// BannerText is the banner sentence in lang (English if not supported).
func BannerText(lang string, avgMinutes *int, slaMinutes int) string {
	t, ok := bannerTexts[lang]
	if !ok {
		t = bannerTexts["en"]
	}
	switch {
	case avgMinutes == nil:
		return fmt.Sprintf(t[2], slaMinutes)
	case *avgMinutes < 1:
		return t[1]
	case *avgMinutes == 1 && lang == "en":
		return "We currently reply in about a minute"
	}
	return fmt.Sprintf(t[0], *avgMinutes)
}

// Group is one group's figures.
type Group struct {
	Key            string  `json:"key"`
	Count          int     `json:"count"`
	AverageSeconds float64 `json:"average_seconds"`
	MedianSeconds  float64 `json:"median_seconds"`
	P90Seconds     float64 `json:"p90_seconds"`
	MaxSeconds     float64 `json:"max_seconds"`
}

// Breakdown is the figures of one kind, grouped.
type Breakdown struct {
	Figure string    `json:"figure"`
	By     string    `json:"by"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	All    Group     `json:"all"`
	Groups []Group   `json:"groups"`
}

// Figure kinds and groupings agents can ask for.
var (
	FigureKinds = []string{store.FigureFirstResponse, store.FigureResolution, store.FigureOnboard}
	GroupBys    = []string{"channel", "language", "agent"}
)

// Breakdown computes the figures of one kind completed in [from, to),
// grouped by channel, language or agent ("agent" is who completed it: the
// replying agent, the closing agent, the crew member who recorded the
// outcome).
func (s *Service) Breakdown(ctx context.Context, kind, by string, from, to time.Time) (*Breakdown, error) {
	if !slices.Contains(FigureKinds, kind) {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "figure %q is not one of %v", kind, FigureKinds)
	}
	if !slices.Contains(GroupBys, by) {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "by %q is not one of %v", by, GroupBys)
	}
	if !to.After(from) {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "to must be after from")
	}
	fs, err := s.Store.Figures(ctx, kind, from, to)
	if err != nil {
		return nil, err
	}
	b := &Breakdown{Figure: kind, By: by, From: from, To: to, Groups: []Group{}}
	groups := map[string][]time.Duration{}
	var all []time.Duration
	for _, f := range fs {
		k := f.Channel
		switch by {
		case "language":
			k = f.Language
		case "agent":
			k = f.By
		}
		groups[k] = append(groups[k], f.Duration)
		all = append(all, f.Duration)
	}
	b.All = summarise("all", all)
	for k, ds := range groups {
		b.Groups = append(b.Groups, summarise(k, ds))
	}
	sort.Slice(b.Groups, func(i, j int) bool {
		if b.Groups[i].Count != b.Groups[j].Count {
			return b.Groups[i].Count > b.Groups[j].Count
		}
		return b.Groups[i].Key < b.Groups[j].Key
	})
	return b, nil
}

// summarise gives the count, mean, median (the lower middle of an even
// count), 90th percentile (nearest rank) and maximum.
func summarise(key string, ds []time.Duration) Group {
	g := Group{Key: key, Count: len(ds)}
	if len(ds) == 0 {
		return g
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	g.AverageSeconds = (sum / time.Duration(len(s))).Seconds()
	g.MedianSeconds = s[(len(s)-1)/2].Seconds()
	g.P90Seconds = s[int(math.Ceil(0.9*float64(len(s))))-1].Seconds()
	g.MaxSeconds = s[len(s)-1].Seconds()
	return g
}
