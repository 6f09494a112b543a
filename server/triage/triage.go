package triage

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Input is what triage looks at.
type Input struct {
	Text string
	// Public is true for a public post, comment or tweet, false for a
	// private message.
	Public bool
	// Followers is the author's reach on the channel (0 if unknown).
	Followers int
	// Tier is the loyalty tier of the passenger the enquiry is about
	// ("none", "silver", "gold", "platinum"; "" if not known yet).
	Tier string
	// DepartsAt and ArrivesAt are the schedule of the passenger's flight,
	// if known.
	DepartsAt, ArrivesAt *time.Time
	Now                  time.Time
}

// Level is a priority level.
type Level string

// Levels, from the score: urgent >= 70, high >= 40, normal >= 15, low below.
const (
	LevelUrgent Level = "urgent"
	LevelHigh   Level = "high"
	LevelNormal Level = "normal"
	LevelLow    Level = "low"
)

// Thresholds are the lowest scores of each level above low.
var Thresholds = []struct {
	Level Level
	Min   int
}{{LevelUrgent, 70}, {LevelHigh, 40}, {LevelNormal, 15}}

// LevelOf is the level of a score.
func LevelOf(score int) Level {
	for _, t := range Thresholds {
		if score >= t.Min {
			return t.Level
		}
	}
	return LevelLow
}

// Target is the response target of a level given the team's SLA: a
// quarter of it for urgent enquiries, half for high, the SLA itself
// otherwise. The queue orders by the deadline this gives, so an urgent
// enquiry that just arrived comes before a normal one that is 20 minutes
// old.
func Target(l Level, sla time.Duration) time.Duration {
	switch l {
	case LevelUrgent:
		return sla / 4
	case LevelHigh:
		return sla / 2
	}
	return sla
}

// Rule is one triage rule.
type Rule struct {
	ID     string
	Points int
	Doc    string
}

// Rule ids.
const (
	RulePublic     = "public"
	RuleReach1k    = "reach_1k"
	RuleReach10k   = "reach_10k"
	RuleReach100k  = "reach_100k"
	RuleMedical    = "medical"
	RuleMinor      = "unaccompanied_minor"
	RuleConnection = "missed_connection"
	RuleLostBag    = "lost_bag"
	RuleMobility   = "mobility"
	RulePlatinum   = "tier_platinum"
	RuleGold       = "tier_gold"
	RuleSilver     = "tier_silver"
	RuleDeparts3h  = "departs_within_3h"
	RuleDeparts24h = "departs_within_24h"
	RuleInFlight   = "in_flight"
)

// Rules is the rule table, with the points each rule adds. Of the reach
// rules only the highest that applies counts, as for the tier and the
// departure rules. Each urgency word category counts once, whatever the
// number of its words in the text.
var Rules = []Rule{
	{RulePublic, 15, "a public post, comment or tweet: others see it and can pile on (a private message is 0)"},
	{RuleReach1k, 10, "the author has 1,000 followers or more"},
	{RuleReach10k, 20, "the author has 10,000 followers or more"},
	{RuleReach100k, 35, "the author has 100,000 followers or more: a complaint can go viral"},
	{RuleMedical, 40, "medical words: insulin, diabetes, allergy, EpiPen, medication, pregnant, dementia..."},
	{RuleMinor, 40, "an unaccompanied minor"},
	{RuleConnection, 35, "a tight or missed connection"},
	{RuleLostBag, 20, "a lost or delayed bag"},
	{RuleMobility, 20, "a wheelchair or a passenger who cannot walk well"},
	{RulePlatinum, 20, "the passenger is Platinum"},
	{RuleGold, 10, "the passenger is Gold"},
	{RuleSilver, 5, "the passenger is Silver"},
	{RuleDeparts3h, 35, "the passenger's flight departs within 3 hours"},
	{RuleDeparts24h, 15, "the passenger's flight departs within 24 hours"},
	{RuleInFlight, 30, "the passenger is in the air now: the crew can act only until landing"},
}

// Points returns the points of a rule.
func Points(id string) int {
	for _, r := range Rules {
		if r.ID == id {
			return r.Points
		}
	}
	return 0
}

// Reason is a rule that fired, with what made it fire.
type Reason struct {
	Rule   string `json:"rule"`
	Points int    `json:"points"`
	Detail string `json:"detail,omitempty"`
}

// Result is a triage.
type Result struct {
	Score   int      `json:"score"`
	Level   Level    `json:"level"`
	Reasons []Reason `json:"reasons"`
}

// Assess applies the rules to in.
func Assess(in Input) Result {
	r := Result{Reasons: []Reason{}}
	fire := func(id, detail string) {
		p := Points(id)
		r.Score += p
		r.Reasons = append(r.Reasons, Reason{Rule: id, Points: p, Detail: detail})
	}
	if in.Public {
		fire(RulePublic, "public post")
	}
	switch f := in.Followers; {
	case f >= 100_000:
		fire(RuleReach100k, fmt.Sprintf("%d followers", f))
	case f >= 10_000:
		fire(RuleReach10k, fmt.Sprintf("%d followers", f))
	case f >= 1_000:
		fire(RuleReach1k, fmt.Sprintf("%d followers", f))
	}
	text := Normalize(in.Text)
	for _, c := range Categories {
		if w := c.find(text); w != "" {
			fire(c.Rule, fmt.Sprintf("%q", w))
		}
	}
	switch strings.ToLower(in.Tier) {
	case "platinum":
		fire(RulePlatinum, "Platinum")
	case "gold":
		fire(RuleGold, "Gold")
	case "silver":
		fire(RuleSilver, "Silver")
	}
	if in.DepartsAt != nil {
		left := in.DepartsAt.Sub(in.Now)
		switch {
		case left > 0 && left <= 3*time.Hour:
			fire(RuleDeparts3h, "departs in "+left.Round(time.Minute).String())
		case left > 0 && left <= 24*time.Hour:
			fire(RuleDeparts24h, "departs in "+left.Round(time.Minute).String())
		case left <= 0 && in.ArrivesAt != nil && in.Now.Before(*in.ArrivesAt):
			fire(RuleInFlight, "lands in "+in.ArrivesAt.Sub(in.Now).Round(time.Minute).String())
		}
	}
	r.Level = LevelOf(r.Score)
	return r
}

// Category is a set of urgency words, per language, for one rule.
type Category struct {
	Rule string
	// Words per language, in the form Normalize gives (lower case, no
	// accents). A word matches at the start of a word in the text ("insulin"
	// matches "insuline"); a word with a space is a phrase matched
	// anywhere; Japanese words match anywhere.
	Words map[string][]string
}

// find returns the first word of c in the normalised text, or "".
func (c *Category) find(text string) string {
	for _, lang := range Languages {
		for _, w := range c.Words[lang] {
			if containsWord(text, w) {
				return w
			}
		}
	}
	return ""
}

// Languages are the languages the word lists cover.
var Languages = []string{"en", "nl", "fr", "es", "de", "pt", "it", "ja"}

// Categories are the urgency word lists.
var Categories = []Category{
	{RuleMedical, map[string][]string{
		"en": {"insulin", "diabet", "allerg", "epipen", "anaphyla", "medical", "medication", "medicine", "seizure", "epilep", "pregnan", "asthma", "dementia", "heart attack", "heart condition", "unconscious"},
		"nl": {"insuline", "diabetes", "allergie", "notenallergie", "medisch", "medicijn", "zwanger", "dement", "epilep", "hartaanval", "hartpatient"},
		"fr": {"insuline", "diabet", "allergi", "adrenaline", "medical", "medicament", "medecin", "enceinte", "epilep", "dement", "alzheimer", "cardiaque"},
		"es": {"insulina", "diabet", "alergia", "adrenalina", "medico", "medicina", "medicamento", "embarazada", "epilep", "demencia", "infarto"},
		"de": {"insulin", "diabet", "allergi", "nussallergie", "adrenalin", "medizin", "medikament", "arzt", "schwanger", "epilep", "demenz", "herzinfarkt"},
		"pt": {"insulina", "diabet", "alergia", "adrenalina", "medico", "remedio", "medicamento", "gravida", "epilep", "demencia", "infarto"},
		"it": {"insulina", "diabet", "allergia", "adrenalina", "medico", "medicin", "farmac", "incinta", "epiless", "demenza", "infarto"},
		"ja": {"インスリン", "糖尿病", "アレルギー", "薬", "医師", "妊娠", "認知症"},
	}},
	{RuleMinor, map[string][]string{
		"en": {"unaccompanied", "um service", "travelling on her own", "travelling on his own", "traveling alone", "flies alone", "alone as a minor"},
		"nl": {"alleenreizend", "begeleidingsservice", "alleen naar", "reist alleen", "vliegt alleen"},
		"fr": {"non accompagne", "mineur", "voyage seule", "voyage seul", "part seul"},
		"es": {"no acompanado", "menor no", "servicio de menores", "viaja sola", "viaja solo", "vuela solo", "vuela sola"},
		"de": {"unbegleitet", "begleitetes kind", "allein nach", "fliegt allein", "reist allein"},
		"pt": {"desacompanhad", "menor", "viaja sozinh", "voa sozinh"},
		"it": {"non accompagnat", "minore", "da sola per", "da solo per", "viaggia da sol", "vola da sol"},
		"ja": {"一人旅", "一人で乗"},
	}},
	{RuleConnection, map[string][]string{
		"en": {"connection", "connecting flight", "to connect to", "time to connect", "layover", "miss my flight"},
		"nl": {"overstap", "aansluit"},
		"fr": {"correspondance"},
		"es": {"conexion", "escala", "enlace"},
		"de": {"anschluss", "umstieg", "umsteig"},
		"pt": {"conexao", "escala"},
		"it": {"coincidenza", "scalo"},
		"ja": {"乗り継ぎ", "乗継"},
	}},
	{RuleLostBag, map[string][]string{
		"en": {"suitcase", "luggage", "baggage", "lost bag", "my bag", "our bags", "bag never", "bag is missing"},
		"nl": {"koffer", "bagage"},
		"fr": {"valise", "bagage"},
		"es": {"maleta", "equipaje"},
		"de": {"koffer", "gepack"},
		"pt": {"mala", "bagagem"},
		"it": {"valigia", "bagagli"},
		"ja": {"スーツケース", "荷物"},
	}},
	{RuleMobility, map[string][]string{
		"en": {"wheelchair", "can't walk", "cannot walk", "unsteady on", "knee surgery", "reduced mobility"},
		"nl": {"rolstoel", "wankel ter been", "slecht ter been", "kan niet lopen"},
		"fr": {"fauteuil roulant", "mobilite reduite", "marche difficilement", "ne peut pas marcher", "ne peux pas marcher"},
		"es": {"silla de ruedas", "movilidad reducida", "camina con dificultad", "no puedo caminar", "no puede caminar"},
		"de": {"rollstuhl", "gehbehindert", "nicht mehr gut zu fuss"},
		"pt": {"cadeira de rodas", "mobilidade reduzida", "dificuldade para andar", "nao consigo andar"},
		"it": {"sedia a rotelle", "mobilita ridotta", "cammina a fatica", "non riesco a camminare"},
		"ja": {"車椅子", "足元がおぼつかない"},
	}},
}

// Normalize lowers a text and removes accents, so the word lists need one
// spelling ("Gepäck" -> "gepack", "acompañado" -> "acompanado").
func Normalize(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(latinMarks)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.ToLower(out)
	// Typographic apostrophes as plain ones ("can’t").
	return strings.NewReplacer("’", "'", "‘", "'", "ß", "ss").Replace(out)
}

// containsWord reports whether w occurs in text at the start of a word
// (or anywhere, for a phrase or a word in a script without spaces).
func containsWord(text, w string) bool {
	if strings.Contains(w, " ") || !isLatin(w) {
		return strings.Contains(text, w)
	}
	for i := 0; ; {
		j := strings.Index(text[i:], w)
		if j < 0 {
			return false
		}
		at := i + j
		if at == 0 || !isWordRune(lastRune(text[:at])) {
			return true
		}
		i = at + 1
	}
}

func isLatin(w string) bool {
	for _, r := range w {
		if r > unicode.MaxLatin1 && !unicode.In(r, unicode.Latin) {
			return false
		}
	}
	return true
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func lastRune(s string) rune {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0x80 || s[i] >= 0xC0 {
			r := []rune(s[i:])
			if len(r) > 0 {
				return r[0]
			}
		}
	}
	return ' '
}

// latinMarks are the combining diacritical marks of Latin letters (not the
// Japanese voicing marks, which change the letter).
var latinMarks = &unicode.RangeTable{R16: []unicode.Range16{{Lo: 0x0300, Hi: 0x036f, Stride: 1}}}
