//go:build ignore

// Command gen writes the sample data set in testdata/: flights, passenger
// manifests, social-media enquiries and the hand-picked demo enquiries.
//
// It uses only the standard library and a fixed PCG seed, so its output is
// byte-for-byte reproducible:
//
//	go run testdata/gen/main.go -out testdata
//
// Everything in the data set is fictitious.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The seed. Change it and every file changes.
const seedHi, seedLo = 20261123, 641

var rng = rand.New(rand.NewPCG(seedHi, seedLo))

const (
	firstDay    = "2026-11-22"
	numDays     = 6 // 2026-11-22 .. 2026-11-27
	anchorDay   = "2026-11-23"
	minPax      = 20
	maxPax      = 40
	numEnquiry  = 3000
	minConnect  = 50 * time.Minute
	maxConnect  = 6 * time.Hour
	minText     = 60
	maxText     = 280
	handleShare = 0.40 // share of passengers with 1-2 social handles
)

// ---------------------------------------------------------------- helpers

func chance(p float64) bool { return rng.Float64() < p }

// between returns a uniform integer in [a, b].
func between(a, b int) int { return a + rng.IntN(b-a+1) }

func pick[T any](xs []T) T { return xs[rng.IntN(len(xs))] }

type weighted[T any] struct {
	v T
	w int
}

func pickW[T any](xs []weighted[T]) T {
	total := 0
	for _, x := range xs {
		total += x.w
	}
	n := rng.IntN(total)
	for _, x := range xs {
		if n < x.w {
			return x.v
		}
		n -= x.w
	}
	panic("unreachable")
}

// dur returns a uniform duration in [a, b], rounded to the second.
func dur(a, b time.Duration) time.Duration {
	if b <= a {
		return a
	}
	return (a + time.Duration(rng.Int64N(int64(b-a)))).Truncate(time.Second)
}

func mustDate(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func hhmm(s string) time.Duration {
	t, err := time.Parse("15:04", s)
	if err != nil {
		panic(err)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
}

func mod(a, n int) int { return ((a % n) + n) % n }

// fold turns a name into lower-case ASCII letters, for handles.
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if rep, ok := foldMap[r]; ok {
				b.WriteString(rep)
			}
		}
	}
	return b.String()
}

var foldMap = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ç': "c", 'è': "e", 'é': "e", 'ê': "e", 'ë': "e",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ß': "ss", 'œ': "oe", 'æ': "ae",
}

const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"

func randStr(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

// ---------------------------------------------------------------- network

// Seat layouts: blocks of adjacent seats between aisles.
type layout struct {
	wide      bool
	bizRows   [2]int
	bizBlocks [][]string
	ecoRows   [2]int
	ecoBlocks [][]string
}

var layouts = map[string]*layout{
	// Long-haul business: rows 1-6, seats A, C, D, G (1-2-1).
	"B77W": {true, [2]int{1, 6}, [][]string{{"A"}, {"C", "D"}, {"G"}}, [2]int{10, 40}, [][]string{{"A", "B", "C"}, {"D", "E", "F", "G"}, {"H", "J", "K"}}},
	"B772": {true, [2]int{1, 6}, [][]string{{"A"}, {"C", "D"}, {"G"}}, [2]int{10, 40}, [][]string{{"A", "B", "C"}, {"D", "E", "F", "G"}, {"H", "J", "K"}}},
	"B789": {true, [2]int{1, 6}, [][]string{{"A"}, {"C", "D"}, {"G"}}, [2]int{10, 40}, [][]string{{"A", "B", "C"}, {"D", "E", "F"}, {"H", "J", "K"}}},
	"B78X": {true, [2]int{1, 6}, [][]string{{"A"}, {"C", "D"}, {"G"}}, [2]int{10, 40}, [][]string{{"A", "B", "C"}, {"D", "E", "F"}, {"H", "J", "K"}}},
	"A333": {true, [2]int{1, 6}, [][]string{{"A"}, {"C", "D"}, {"G"}}, [2]int{10, 40}, [][]string{{"A", "C"}, {"D", "E", "F", "G"}, {"H", "K"}}},
	// European business on a 737: rows 1-6, A, C, D, F (middle seat blocked).
	"B738": {false, [2]int{1, 6}, [][]string{{"A", "C"}, {"D", "F"}}, [2]int{10, 40}, [][]string{{"A", "B", "C"}, {"D", "E", "F"}}},
	"B737": {false, [2]int{1, 6}, [][]string{{"A", "C"}, {"D", "F"}}, [2]int{10, 40}, [][]string{{"A", "B", "C"}, {"D", "E", "F"}}},
}

var fleet = map[string][]string{
	"B77W": {"PH-BVA", "PH-BVB", "PH-BVC", "PH-BVD", "PH-BVF", "PH-BVG", "PH-BVI", "PH-BVK", "PH-BVN", "PH-BVO", "PH-BVP", "PH-BVR", "PH-BVS", "PH-BVU", "PH-BVW"},
	"B772": {"PH-BQA", "PH-BQB", "PH-BQC", "PH-BQD", "PH-BQE", "PH-BQF", "PH-BQG", "PH-BQH", "PH-BQI", "PH-BQK", "PH-BQL", "PH-BQM", "PH-BQN", "PH-BQO", "PH-BQP"},
	"B789": {"PH-BHA", "PH-BHC", "PH-BHD", "PH-BHE", "PH-BHF", "PH-BHG", "PH-BHH", "PH-BHI", "PH-BHL", "PH-BHM", "PH-BHN", "PH-BHO", "PH-BHP"},
	"B78X": {"PH-BKA", "PH-BKB", "PH-BKC", "PH-BKD", "PH-BKF", "PH-BKG"},
	"A333": {"PH-AKA", "PH-AKB", "PH-AKD", "PH-AKE", "PH-AKF"},
	"B738": {"PH-BXA", "PH-BXB", "PH-BXC", "PH-BXD", "PH-BXE", "PH-BXF", "PH-BXG", "PH-BXH", "PH-BXI", "PH-BXK", "PH-BXL", "PH-BXM", "PH-BXN", "PH-BXO", "PH-BXP", "PH-BXR", "PH-BXS", "PH-BXT", "PH-BXU", "PH-BXV", "PH-BXW", "PH-BXY", "PH-BXZ"},
	"B737": {"PH-BGA", "PH-BGB", "PH-BGC", "PH-BGD", "PH-BGE", "PH-BGF", "PH-BGG", "PH-BGH", "PH-BGI", "PH-BGK"},
}

// A route is a daily out-and-back from the AMS hub. Times are UTC; every
// departure falls on the same calendar day in UTC and in local time, so a
// flight's date is its departure date either way.
type route struct {
	dest           string
	outNo, retNo   int
	outDep         string
	outMin         int // block time in minutes
	retDep         string
	retMin         int
	typ            string
	mix            []weighted[string] // nationality mix at the outstation
	regs           []string
	kOut, cycleLen int
}

var routes = []*route{
	{dest: "JFK", outNo: 641, retNo: 642, outDep: "10:15", outMin: 505, retDep: "22:30", retMin: 435, typ: "B77W",
		mix: []weighted[string]{{"en", 68}, {"es", 8}, {"it", 6}, {"pt", 3}, {"fr", 3}, {"de", 3}, {"ja", 2}, {"zh", 4}, {"hi", 3}}},
	{dest: "LHR", outNo: 1001, retNo: 1002, outDep: "06:40", outMin: 75, retDep: "08:50", retMin: 70, typ: "B738",
		mix: []weighted[string]{{"en", 80}, {"hi", 6}, {"fr", 3}, {"de", 3}, {"it", 3}, {"es", 2}, {"nl", 3}}},
	{dest: "CDG", outNo: 1223, retNo: 1224, outDep: "07:25", outMin: 75, retDep: "09:25", retMin: 75, typ: "B737",
		mix: []weighted[string]{{"fr", 82}, {"en", 8}, {"es", 4}, {"ar", 4}, {"de", 2}}},
	{dest: "BCN", outNo: 1665, retNo: 1666, outDep: "08:35", outMin: 130, retDep: "11:35", retMin: 135, typ: "B738",
		mix: []weighted[string]{{"es", 82}, {"en", 10}, {"fr", 5}, {"de", 3}}},
	{dest: "MAD", outNo: 1701, retNo: 1702, outDep: "09:05", outMin: 150, retDep: "12:25", retMin: 150, typ: "B738",
		mix: []weighted[string]{{"es", 88}, {"en", 6}, {"pt", 4}, {"fr", 2}}},
	{dest: "LIS", outNo: 1691, retNo: 1692, outDep: "11:50", outMin: 175, retDep: "15:35", retMin: 170, typ: "B738",
		mix: []weighted[string]{{"pt", 85}, {"en", 8}, {"es", 5}, {"fr", 2}}},
	{dest: "FCO", outNo: 1597, retNo: 1598, outDep: "13:10", outMin: 130, retDep: "16:10", retMin: 145, typ: "B738",
		mix: []weighted[string]{{"it", 88}, {"en", 8}, {"de", 2}, {"fr", 2}}},
	{dest: "NRT", outNo: 861, retNo: 862, outDep: "13:40", outMin: 865, retDep: "06:10", retMin: 855, typ: "B789",
		mix: []weighted[string]{{"ja", 82}, {"en", 10}, {"zh", 8}}},
	{dest: "GRU", outNo: 791, retNo: 792, outDep: "10:20", outMin: 710, retDep: "23:50", retMin: 695, typ: "B77W",
		mix: []weighted[string]{{"pt", 88}, {"es", 6}, {"it", 4}, {"ja", 2}}},
	{dest: "CPT", outNo: 597, retNo: 598, outDep: "08:10", outMin: 695, retDep: "21:15", retMin: 700, typ: "B78X",
		mix: []weighted[string]{{"za", 60}, {"en", 25}, {"de", 8}, {"nl", 7}}},
	{dest: "DXB", outNo: 427, retNo: 428, outDep: "07:30", outMin: 395, retDep: "15:40", retMin: 415, typ: "A333",
		mix: []weighted[string]{{"ar", 30}, {"hi", 30}, {"en", 25}, {"de", 5}, {"fr", 5}, {"it", 5}}},
	{dest: "SIN", outNo: 835, retNo: 836, outDep: "10:55", outMin: 760, retDep: "15:05", retMin: 820, typ: "B772",
		mix: []weighted[string]{{"zh", 50}, {"en", 20}, {"hi", 20}, {"nl", 5}, {"ja", 5}}},
	{dest: "YYZ", outNo: 691, retNo: 692, outDep: "12:30", outMin: 495, retDep: "23:10", retMin: 430, typ: "A333",
		mix: []weighted[string]{{"en", 55}, {"fr", 20}, {"hi", 10}, {"zh", 10}, {"pt", 5}}},
}

// Nationality mix of passengers who start their trip in Amsterdam.
var hubMix = []weighted[string]{{"nl", 55}, {"de", 10}, {"en", 10}, {"fr", 4}, {"es", 4}, {"it", 3}, {"pt", 2}, {"ar", 4}, {"hi", 3}, {"zh", 3}, {"ja", 1}, {"za", 1}}

// City names per enquiry language.
var cities = map[string]map[string]string{
	"AMS": {"en": "Amsterdam", "nl": "Amsterdam", "fr": "Amsterdam", "es": "Ámsterdam", "de": "Amsterdam", "pt": "Amsterdam", "it": "Amsterdam", "ja": "アムステルダム"},
	"JFK": {"en": "New York", "nl": "New York", "fr": "New York", "es": "Nueva York", "de": "New York", "pt": "Nova York", "it": "New York", "ja": "ニューヨーク"},
	"LHR": {"en": "London", "nl": "Londen", "fr": "Londres", "es": "Londres", "de": "London", "pt": "Londres", "it": "Londra", "ja": "ロンドン"},
	"CDG": {"en": "Paris", "nl": "Parijs", "fr": "Paris", "es": "París", "de": "Paris", "pt": "Paris", "it": "Parigi", "ja": "パリ"},
	"BCN": {"en": "Barcelona", "nl": "Barcelona", "fr": "Barcelone", "es": "Barcelona", "de": "Barcelona", "pt": "Barcelona", "it": "Barcellona", "ja": "バルセロナ"},
	"MAD": {"en": "Madrid", "nl": "Madrid", "fr": "Madrid", "es": "Madrid", "de": "Madrid", "pt": "Madri", "it": "Madrid", "ja": "マドリード"},
	"LIS": {"en": "Lisbon", "nl": "Lissabon", "fr": "Lisbonne", "es": "Lisboa", "de": "Lissabon", "pt": "Lisboa", "it": "Lisbona", "ja": "リスボン"},
	"FCO": {"en": "Rome", "nl": "Rome", "fr": "Rome", "es": "Roma", "de": "Rom", "pt": "Roma", "it": "Roma", "ja": "ローマ"},
	"NRT": {"en": "Tokyo", "nl": "Tokio", "fr": "Tokyo", "es": "Tokio", "de": "Tokio", "pt": "Tóquio", "it": "Tokyo", "ja": "東京"},
	"GRU": {"en": "São Paulo", "nl": "São Paulo", "fr": "São Paulo", "es": "São Paulo", "de": "São Paulo", "pt": "São Paulo", "it": "San Paolo", "ja": "サンパウロ"},
	"CPT": {"en": "Cape Town", "nl": "Kaapstad", "fr": "Le Cap", "es": "Ciudad del Cabo", "de": "Kapstadt", "pt": "Cidade do Cabo", "it": "Città del Capo", "ja": "ケープタウン"},
	"DXB": {"en": "Dubai", "nl": "Dubai", "fr": "Dubaï", "es": "Dubái", "de": "Dubai", "pt": "Dubai", "it": "Dubai", "ja": "ドバイ"},
	"SIN": {"en": "Singapore", "nl": "Singapore", "fr": "Singapour", "es": "Singapur", "de": "Singapur", "pt": "Singapura", "it": "Singapore", "ja": "シンガポール"},
	"YYZ": {"en": "Toronto", "nl": "Toronto", "fr": "Toronto", "es": "Toronto", "de": "Toronto", "pt": "Toronto", "it": "Toronto", "ja": "トロント"},
	// Destinations of flights that are not in the data set.
	"LAX": {"en": "Los Angeles", "nl": "Los Angeles", "fr": "Los Angeles", "es": "Los Ángeles", "de": "Los Angeles", "pt": "Los Angeles", "it": "Los Angeles", "ja": "ロサンゼルス"},
	"HAM": {"en": "Hamburg", "nl": "Hamburg", "fr": "Hambourg", "es": "Hamburgo", "de": "Hamburg", "pt": "Hamburgo", "it": "Amburgo", "ja": "ハンブルク"},
	"PBM": {"en": "Paramaribo", "nl": "Paramaribo", "fr": "Paramaribo", "es": "Paramaribo", "de": "Paramaribo", "pt": "Paramaribo", "it": "Paramaribo", "ja": "パラマリボ"},
	"OSL": {"en": "Oslo", "nl": "Oslo", "fr": "Oslo", "es": "Oslo", "de": "Oslo", "pt": "Oslo", "it": "Oslo", "ja": "オスロ"},
}

// Flights that customers mention but that are not in flights.ndjson.
var foreignFlights = []struct{ number, dest string }{{"KL0601", "LAX"}, {"KL1775", "HAM"}, {"KL0713", "PBM"}, {"KL1143", "OSL"}}

type flight struct {
	Number      string `json:"number"`
	Date        string `json:"date"`
	Origin      string `json:"origin"`
	Destination string `json:"destination"`
	DepartsAt   string `json:"departs_at"`
	ArrivesAt   string `json:"arrives_at"`
	Aircraft    string `json:"aircraft"`

	dep, arr time.Time
	route    *route
	outbound bool
	day      int
	idx      int
	lay      *layout
	pax      []*segment
	used     map[string]bool
	target   int
}

func (f *flight) key() string { return f.Number + "/" + f.Date }

var (
	flights  []*flight
	byKey    = map[string]*flight{}
	outByDay = map[*route][]*flight{}
	retByDay = map[*route][]*flight{}
)

func buildFlights() {
	day0 := mustDate(firstDay)
	anchor := mustDate(anchorDay)
	nextReg := map[string]int{}
	for _, r := range routes {
		wide := layouts[r.typ].wide
		turn := 35 * time.Minute
		if wide {
			turn = 75 * time.Minute
		}
		// Rotation: the aircraft of an outbound flight on day d flies the
		// first return that leaves at least a turnaround after it lands
		// (kOut days later), then the first outbound after it is back.
		out, ret := hhmm(r.outDep), hhmm(r.retDep)
		arr := out + time.Duration(r.outMin)*time.Minute
		k := 0
		for time.Duration(k)*24*time.Hour+ret < arr+turn {
			k++
		}
		back := time.Duration(k)*24*time.Hour + ret + time.Duration(r.retMin)*time.Minute
		j := 0
		for time.Duration(j)*24*time.Hour+out < back+turn {
			j++
		}
		r.kOut = k
		r.cycleLen = max(j, 2) // at least two tails per route
		for range r.cycleLen {
			r.regs = append(r.regs, fleet[r.typ][nextReg[r.typ]])
			nextReg[r.typ]++
		}
		for d := range numDays {
			date := day0.AddDate(0, 0, d)
			rel := int(date.Sub(anchor).Hours() / 24)
			mk := func(no int, origin, dest string, depHM string, mins int, reg string, outbound bool) *flight {
				dep := date.Add(hhmm(depHM))
				arr := dep.Add(time.Duration(mins) * time.Minute)
				return &flight{
					Number: fmt.Sprintf("KL%04d", no), Date: date.Format("2006-01-02"),
					Origin: origin, Destination: dest,
					DepartsAt: dep.Format(time.RFC3339), ArrivesAt: arr.Format(time.RFC3339),
					Aircraft: reg, dep: dep, arr: arr, route: r, outbound: outbound, day: d,
					lay: layouts[r.typ], used: map[string]bool{},
				}
			}
			o := mk(r.outNo, "AMS", r.dest, r.outDep, r.outMin, r.regs[mod(rel, r.cycleLen)], true)
			b := mk(r.retNo, r.dest, "AMS", r.retDep, r.retMin, r.regs[mod(rel-r.kOut, r.cycleLen)], false)
			outByDay[r] = append(outByDay[r], o)
			retByDay[r] = append(retByDay[r], b)
			flights = append(flights, o, b)
		}
	}
	sort.SliceStable(flights, func(i, j int) bool {
		a, b := flights[i], flights[j]
		if !a.dep.Equal(b.dep) {
			return a.dep.Before(b.dep)
		}
		return a.Number < b.Number
	})
	for i, f := range flights {
		f.idx = i
		f.target = between(minPax, maxPax)
		byKey[f.key()] = f
	}
}

// ---------------------------------------------------------------- people

type nameSet struct {
	male, female, last []string
	familyFirst        bool // "Tan Wei Ming"
	twoSurnames        float64
}

var names = map[string]*nameSet{
	"nl": {
		male:   []string{"Jan", "Pieter", "Daan", "Sem", "Lars", "Thijs", "Bram", "Ruben", "Jeroen", "Maarten", "Sander", "Wouter", "Bas", "Joost", "Koen", "Niels", "Willem", "Gerrit", "Hendrik", "Sjoerd", "Stijn", "Mees"},
		female: []string{"Anna", "Sanne", "Lotte", "Femke", "Iris", "Eva", "Fleur", "Marloes", "Anouk", "Lieke", "Noor", "Sophie", "Emma", "Marieke", "Ingrid", "Wilma", "Janneke", "Esther", "Zoë", "Maud", "Roos"},
		last:   []string{"de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen", "van Dijk", "Schouten", "van Beek", "Postma", "Kuipers", "Veenstra", "Hoekstra", "van Vliet", "'t Hart"},
	},
	"en": {
		male:   []string{"James", "Oliver", "Harry", "Thomas", "Jack", "William", "George", "Michael", "David", "Daniel", "Matthew", "Ryan", "Christopher", "Liam", "Noah", "Ethan", "Connor", "Samuel", "Benjamin", "Andrew", "Marcus", "Tyler"},
		female: []string{"Emily", "Olivia", "Charlotte", "Sophie", "Amelia", "Grace", "Hannah", "Jessica", "Sarah", "Lauren", "Megan", "Chloe", "Emma", "Isabella", "Madison", "Abigail", "Rachel", "Katie", "Eleanor", "Siobhan", "Jasmine"},
		last:   []string{"Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Clarke", "Murphy", "O'Brien", "O'Connor", "Kelly", "Miller", "Anderson", "Jackson", "Campbell", "Stewart", "Nguyen", "Okafor", "Goldberg", "Kowalski"},
	},
	"fr": {
		male:   []string{"Julien", "Thomas", "Nicolas", "Antoine", "Maxime", "Alexandre", "Pierre", "Louis", "Hugo", "Lucas", "Mathieu", "Guillaume", "Étienne", "François", "Jérôme", "Olivier", "Benoît", "Théo", "Romain", "Arnaud"},
		female: []string{"Camille", "Léa", "Manon", "Chloé", "Inès", "Clara", "Julie", "Marie", "Sophie", "Élodie", "Céline", "Amandine", "Mathilde", "Juliette", "Aurélie", "Margaux", "Hélène", "Émilie", "Océane", "Nathalie"},
		last:   []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "Legrand", "Gauthier", "Chevalier", "Côté", "Tremblay", "Gagnon"},
	},
	"es": {
		male:        []string{"Javier", "Carlos", "Alejandro", "Pablo", "Daniel", "Jorge", "Miguel", "Sergio", "Álvaro", "Diego", "Adrián", "Jordi", "Marc", "Andrés", "Raúl", "Iñaki", "Manuel", "Francisco", "Pau", "Hugo"},
		female:      []string{"Lucía", "María", "Carmen", "Laura", "Marta", "Paula", "Sara", "Elena", "Cristina", "Ana", "Núria", "Montserrat", "Irene", "Alba", "Claudia", "Ainhoa", "Rocío", "Beatriz", "Pilar", "Sofía"},
		last:        []string{"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil", "Serrano", "Puig", "Vidal", "Ferrer", "Castillo", "Ortega", "Morales", "Núñez", "Iglesias"},
		twoSurnames: 0.8,
	},
	"de": {
		male:   []string{"Lukas", "Maximilian", "Jonas", "Felix", "Leon", "Paul", "Tobias", "Stefan", "Michael", "Andreas", "Thomas", "Florian", "Matthias", "Jan", "Sebastian", "Jürgen", "Klaus", "Moritz", "Niklas", "Fabian"},
		female: []string{"Katharina", "Anna", "Lena", "Julia", "Laura", "Sarah", "Lisa", "Hannah", "Sophie", "Marie", "Johanna", "Franziska", "Sabine", "Claudia", "Petra", "Jana", "Miriam", "Leonie", "Carina", "Annika"},
		last:   []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann", "Weiß", "Günther"},
	},
	"pt": {
		male:        []string{"João", "Pedro", "Lucas", "Gabriel", "Rafael", "Mateus", "Gustavo", "Thiago", "Felipe", "Bruno", "Rodrigo", "Tiago", "Diogo", "André", "Ricardo", "Miguel", "Luís", "Fernando", "Eduardo", "Caio"},
		female:      []string{"Ana", "Maria", "Beatriz", "Mariana", "Juliana", "Camila", "Larissa", "Fernanda", "Gabriela", "Letícia", "Inês", "Carolina", "Sofia", "Joana", "Rita", "Patrícia", "Luana", "Isabela", "Vitória", "Débora"},
		last:        []string{"Silva", "Santos", "Oliveira", "Souza", "Pereira", "Ferreira", "Alves", "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Rodrigues", "Almeida", "Lopes", "Sousa", "Fernandes", "Barbosa", "Rocha", "Dias", "Nascimento", "Moreira", "Cardoso", "Araújo", "Gonçalves", "Teixeira", "Correia", "Mendes", "Pinto"},
		twoSurnames: 0.5,
	},
	"it": {
		male:   []string{"Marco", "Luca", "Giuseppe", "Francesco", "Alessandro", "Andrea", "Matteo", "Lorenzo", "Davide", "Simone", "Federico", "Riccardo", "Stefano", "Giovanni", "Paolo", "Niccolò", "Tommaso", "Gabriele", "Roberto", "Antonio"},
		female: []string{"Giulia", "Francesca", "Chiara", "Sara", "Martina", "Valentina", "Alessia", "Elena", "Federica", "Silvia", "Beatrice", "Giorgia", "Alice", "Aurora", "Elisa", "Ilaria", "Paola", "Roberta", "Serena", "Caterina"},
		last:   []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone", "D'Angelo"},
	},
	"ja": {
		male:   []string{"Haruto", "Yuto", "Sota", "Ren", "Takumi", "Kenji", "Hiroshi", "Daiki", "Kaito", "Sho", "Yusuke", "Takeshi", "Ryo", "Kazuki", "Shota", "Naoki", "Tatsuya", "Kenta"},
		female: []string{"Yui", "Aoi", "Sakura", "Hina", "Yuki", "Haruka", "Misaki", "Ayaka", "Nanami", "Mei", "Rin", "Emi", "Keiko", "Yoko", "Naomi", "Akari", "Mio", "Saki"},
		last:   []string{"Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Yamaguchi", "Matsumoto", "Inoue", "Kimura", "Hayashi", "Shimizu", "Mori", "Ikeda", "Hashimoto", "Ishikawa", "Ogawa", "Okada"},
	},
	"zh": {
		male:        []string{"Wei Ming", "Jun Jie", "Kai Xiang", "Zhi Hao", "Jian Hong", "Wei", "Hao", "Lei", "Xiaoming", "Yang", "Jia Le", "Ming Hui"},
		female:      []string{"Jia Hui", "Hui Ling", "Xin Yi", "Mei Ling", "Shu Fen", "Na", "Yuting", "Jing", "Fang", "Xiaoli", "Li Ting", "Qian"},
		last:        []string{"Tan", "Lim", "Lee", "Ng", "Wong", "Chan", "Goh", "Chua", "Ong", "Koh", "Teo", "Zhang", "Wang", "Li", "Liu", "Chen", "Yang", "Huang", "Zhao", "Zhou", "Wu"},
		familyFirst: true,
	},
	"za": {
		male:   []string{"Pieter", "Johan", "Francois", "Hendrik", "Jaco", "Riaan", "Wikus", "Gerhard", "Ruan", "Thabo", "Sipho", "Themba", "Bongani", "Kagiso"},
		female: []string{"Annelie", "Marli", "Elmarie", "Liezl", "Carien", "Sune", "Anel", "Retha", "Nomvula", "Thandiwe", "Lerato", "Zanele", "Naledi"},
		last:   []string{"van der Merwe", "Botha", "Pretorius", "Nel", "Joubert", "du Plessis", "Steyn", "Venter", "Coetzee", "Fourie", "Kruger", "le Roux", "van Wyk", "Nkosi", "Dlamini", "Ndlovu", "Mokoena", "Khumalo", "Naidoo"},
	},
	"hi": {
		male:   []string{"Arjun", "Rahul", "Vikram", "Rohan", "Aditya", "Karthik", "Sanjay", "Anil", "Ravi", "Nikhil", "Pranav", "Siddharth"},
		female: []string{"Priya", "Ananya", "Divya", "Kavya", "Neha", "Pooja", "Shreya", "Aditi", "Lakshmi", "Meera", "Nisha", "Sunita"},
		last:   []string{"Sharma", "Patel", "Raman", "Iyer", "Gupta", "Singh", "Reddy", "Nair", "Menon", "Krishnan", "Rao", "Mehta", "Kapoor", "Desai", "Joshi", "Pillai"},
	},
	"ar": {
		male:   []string{"Omar", "Ahmed", "Khalid", "Youssef", "Hassan", "Ali", "Karim", "Tariq", "Rashid", "Faisal", "Hamza", "Mohamed", "Bilal"},
		female: []string{"Fatima", "Aisha", "Mariam", "Layla", "Noor", "Huda", "Salma", "Yasmin", "Rania", "Hessa", "Amira", "Dana", "Samira"},
		last:   []string{"Al Mansouri", "Al Hashimi", "Haddad", "Khoury", "Al Nuaimi", "Saleh", "Nasser", "Al Suwaidi", "Hamdan", "Mansour", "Aziz", "Farouk", "El Amrani", "Benali", "Bouzid", "El Idrissi", "Ouali"},
	},
}

// The languages people of each background write to the airline in.
var writeLangs = map[string][]weighted[string]{
	"nl": {{"nl", 75}, {"en", 25}},
	"en": {{"en", 1}},
	"fr": {{"fr", 85}, {"en", 15}},
	"es": {{"es", 85}, {"en", 15}},
	"de": {{"de", 75}, {"en", 25}},
	"pt": {{"pt", 85}, {"en", 15}},
	"it": {{"it", 85}, {"en", 15}},
	"ja": {{"ja", 35}, {"en", 65}},
	"zh": {{"en", 1}},
	"za": {{"en", 1}},
	"hi": {{"en", 1}},
	"ar": {{"en", 1}},
}

type person struct {
	name, first, last string
	fam               string
	female            bool
	tier              string
	handles           map[string]string
	keys              []string // handle keys in the order they were made
	segs              []*segment
	booking           *booking
	demo              bool
}

type segment struct {
	p    *person
	f    *flight
	seat string
	cab  string
}

type booking struct {
	pnr     string
	cabin   string
	persons []*person
	flights []*flight
}

var (
	people      []*person
	usedPNR     = map[string]bool{}
	usedHandle  = map[string]bool{} // "key handle"
	usedExtID   = map[string]bool{}
	handleOwner = map[string][]*person{}
)

func makeName(fam string, female bool, last string) (full, first, lastOut string) {
	ns := names[fam]
	if female {
		first = pick(ns.female)
	} else {
		first = pick(ns.male)
	}
	if last == "" {
		last = pick(ns.last)
		if ns.twoSurnames > 0 && chance(ns.twoSurnames) {
			second := pick(ns.last)
			if second != last {
				last += " " + second
			}
		}
	}
	if ns.familyFirst {
		return last + " " + first, first, last
	}
	return first + " " + last, first, last
}

func pickTier(cabin string) string {
	if cabin == "business" {
		return pickW([]weighted[string]{{"none", 30}, {"silver", 25}, {"gold", 25}, {"platinum", 20}})
	}
	return pickW([]weighted[string]{{"none", 62}, {"silver", 20}, {"gold", 12}, {"platinum", 6}})
}

func newPNR() string {
	for {
		p := randStr("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 6)
		if !usedPNR[p] {
			usedPNR[p] = true
			return p
		}
	}
}

// ---------------------------------------------------------------- handles

// Handle keys on a booking. Messenger enquiries use the facebook handle.
var handleKeys = []weighted[string]{{"facebook", 40}, {"twitter", 25}, {"instagram", 12}, {"whatsapp", 10}, {"reddit", 5}, {"snapchat", 5}, {"youtube", 3}}

// Mobile number prefixes and the full number's length in digits (E.164).
type phonePlan struct {
	prefix string
	digits int
}

var phonePlans = map[string][]phonePlan{
	"nl": {{"+316", 11}}, "en": {{"+447", 12}, {"+1212", 11}, {"+1646", 11}, {"+1917", 11}, {"+1416", 11}},
	"fr": {{"+336", 11}, {"+337", 11}}, "es": {{"+346", 11}}, "de": {{"+4915", 13}, {"+4917", 12}},
	"pt": {{"+55119", 13}, {"+3519", 12}}, "it": {{"+393", 12}}, "ja": {{"+8190", 12}, {"+8180", 12}},
	"zh": {{"+658", 10}, {"+659", 10}, {"+86138", 13}}, "za": {{"+2782", 11}, {"+2772", 11}},
	"hi": {{"+9198", 12}, {"+9199", 12}}, "ar": {{"+97150", 12}, {"+97155", 12}, {"+316", 11}},
}

// makeHandle invents a handle on the given key for a name. It is unique
// across the whole data set.
func makeHandle(key, first, last, fam string) string {
	f, l := fold(first), fold(last)
	if f == "" {
		f = "user"
	}
	if l == "" {
		l = "x"
	}
	for attempt := 0; ; attempt++ {
		var h string
		suffix := ""
		if attempt > 0 || chance(0.3) {
			suffix = strconv.Itoa(between(1, 99))
		}
		switch key {
		case "twitter":
			base := pick([]string{f + l[:1] + lastInitials(last), f[:1] + l, f + "_" + l, f + l, l + f[:1]})
			h = "@" + trunc(base+suffix, 15)
		case "facebook":
			h = f + "." + l
			if suffix != "" {
				h += "." + suffix
			}
		case "instagram":
			h = "@" + trunc(pick([]string{f + "." + l, f + "_" + l, f + l, f + ".travels", l + "." + f}), 26) + suffix
		case "whatsapp":
			pp := pick(phonePlans[fam])
			h = pp.prefix + digits(pp.digits-(len(pp.prefix)-1))
		case "wechat":
			h = "wxid_" + randStr(alnum, 14)
		case "reddit":
			h = "u/" + pick([]string{f + "_" + l[:1], capital(f) + capital(pick(redditWords)), pick(redditWords) + "_" + f, f + l})
			h += strconv.Itoa(between(1, 999))
		case "youtube":
			h = "@" + capital(f) + capital(l) + suffix
		case "snapchat":
			h = trunc(f+l[:1]+lastInitials(last), 12) + strconv.Itoa(between(70, 99)) + suffix
		default:
			panic(key)
		}
		if !usedHandle[key+" "+h] {
			usedHandle[key+" "+h] = true
			return h
		}
	}
}

var redditWords = []string{"Traveller", "Flyer", "Nomad", "Wanderer", "Backpacker", "Jetlag", "Window", "Aisle", "Layover", "Tulip", "Stroopwafel", "Cabin"}

func lastInitials(last string) string {
	var b strings.Builder
	for _, w := range strings.Fields(last) {
		if fw := fold(w); fw != "" && len(strings.Fields(last)) > 1 {
			b.WriteByte(fw[0])
		}
	}
	return b.String()
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func registerHandles(p *person) {
	for _, k := range p.keys {
		handleOwner[k] = append(handleOwner[k], p)
	}
}

func giveHandles(p *person) {
	p.handles = map[string]string{}
	if !chance(handleShare) {
		return
	}
	n := 1
	if chance(0.3) {
		n = 2
	}
	for len(p.keys) < n {
		var k string
		if p.fam == "zh" && chance(0.5) {
			k = "wechat"
		} else {
			k = pickW(handleKeys)
		}
		if _, dup := p.handles[k]; dup {
			continue
		}
		p.handles[k] = makeHandle(k, p.first, p.last, p.fam)
		p.keys = append(p.keys, k)
	}
}

// ---------------------------------------------------------------- seating

func seatRow(s string) (int, string) {
	n, _ := strconv.Atoi(s[:len(s)-1])
	return n, s[len(s)-1:]
}

// seatParty gives the persons adjacent seats in the cabin if it can.
func seatParty(f *flight, cabin string, n int) []string {
	rows, blocks := f.lay.ecoRows, f.lay.ecoBlocks
	if cabin == "business" {
		rows, blocks = f.lay.bizRows, f.lay.bizBlocks
	}
	free := func(s string) bool { return !f.used[s] }
	// Try a block with n adjacent free seats in one row.
	for try := 0; try < 80; try++ {
		row := between(rows[0], rows[1])
		blk := pick(blocks)
		if len(blk) < n {
			continue
		}
		start := rng.IntN(len(blk) - n + 1)
		ok := true
		var out []string
		for i := start; i < start+n; i++ {
			s := fmt.Sprintf("%d%s", row, blk[i])
			if !free(s) {
				ok = false
				break
			}
			out = append(out, s)
		}
		if ok {
			for _, s := range out {
				f.used[s] = true
			}
			return out
		}
	}
	// Otherwise scattered seats, nearest rows first from a random row.
	var out []string
	startRow := between(rows[0], rows[1])
	for i := 0; i <= rows[1]-rows[0] && len(out) < n; i++ {
		row := rows[0] + mod(startRow-rows[0]+i, rows[1]-rows[0]+1)
		for _, blk := range blocks {
			for _, l := range blk {
				s := fmt.Sprintf("%d%s", row, l)
				if free(s) && len(out) < n {
					f.used[s] = true
					out = append(out, s)
				}
			}
		}
	}
	if len(out) < n {
		return nil
	}
	return out
}

func cabinFree(f *flight, cabin string) int {
	rows, blocks := f.lay.ecoRows, f.lay.ecoBlocks
	if cabin == "business" {
		rows, blocks = f.lay.bizRows, f.lay.bizBlocks
	}
	total := 0
	for _, b := range blocks {
		total += len(b)
	}
	total *= rows[1] - rows[0] + 1
	used := 0
	for _, s := range f.pax {
		if s.cab == cabin {
			used++
		}
	}
	return total - used
}

// ---------------------------------------------------------------- bookings

func addBooking(b *booking, fixedSeats map[*flight][]string) {
	sort.SliceStable(b.flights, func(i, j int) bool { return b.flights[i].dep.Before(b.flights[j].dep) })
	for _, f := range b.flights {
		cab := b.cabin
		if cab == "business" && cabinFree(f, cab) < len(b.persons) {
			cab = "economy"
		}
		seats := fixedSeats[f]
		if seats == nil {
			seats = seatParty(f, cab, len(b.persons))
		} else {
			for _, s := range seats {
				if f.used[s] {
					panic("demo seat taken: " + f.key() + " " + s)
				}
				f.used[s] = true
			}
		}
		if seats == nil {
			panic("no seats on " + f.key())
		}
		for i, p := range b.persons {
			sg := &segment{p: p, f: f, seat: seats[i], cab: cab}
			f.pax = append(f.pax, sg)
			p.segs = append(p.segs, sg)
		}
	}
	for _, p := range b.persons {
		p.booking = b
	}
}

func newParty(fam string, n int, cabin string) []*person {
	var ps []*person
	sharedLast := ""
	for i := 0; i < n; i++ {
		female := chance(0.5)
		last := ""
		if i > 0 && chance(0.75) {
			last = sharedLast
		}
		full, first, l := makeName(fam, female, last)
		for dupName(ps, full) {
			full, first, l = makeName(fam, female, last)
		}
		if i == 0 {
			sharedLast = l
		}
		p := &person{name: full, first: first, last: l, fam: fam, female: female, tier: pickTier(cabin)}
		giveHandles(p)
		ps = append(ps, p)
	}
	return ps
}

func dupName(ps []*person, name string) bool {
	for _, p := range ps {
		if p.name == name {
			return true
		}
	}
	return false
}

func fits(f *flight, n int) bool { return len(f.pax)+n <= maxPax }

// connections lists flights that make a valid connection at AMS with f:
// onward ones if f lands in AMS, feeders if f leaves AMS.
func connections(f *flight, n int) []*flight {
	var out []*flight
	for _, g := range flights {
		if g.route == f.route || !fits(g, n) {
			continue
		}
		if !f.outbound && g.outbound { // f lands at AMS, g leaves AMS
			if gap := g.dep.Sub(f.arr); gap >= minConnect && gap <= maxConnect {
				out = append(out, g)
			}
		}
		if f.outbound && !g.outbound { // g lands at AMS, f leaves AMS
			if gap := f.dep.Sub(g.arr); gap >= minConnect && gap <= maxConnect {
				out = append(out, g)
			}
		}
	}
	return out
}

func flightOn(list []*flight, day int) *flight {
	if day < 0 || day >= len(list) {
		return nil
	}
	return list[day]
}

// makeBooking creates one booking that includes flight f.
func makeBooking(f *flight) {
	n := pickW([]weighted[int]{{1, 55}, {2, 28}, {3, 10}, {4, 7}})
	n = min(n, f.target-len(f.pax), maxPax-len(f.pax))
	if n < 1 {
		n = 1
	}
	cabin := "economy"
	if (n <= 2 && chance(0.11)) || chance(0.03) {
		cabin = "business"
	}
	r := f.route
	segs := []*flight{f}
	var fam string
	kind := pickW([]weighted[string]{{"return", 62}, {"connect", 26}, {"oneway", 12}})
	if kind == "connect" {
		cands := connections(f, n)
		if len(cands) == 0 {
			kind = "return"
		} else {
			g := pick(cands)
			segs = append(segs, g)
			// Which end is home.
			var first, second *flight = f, g
			if f.outbound {
				first, second = g, f
			}
			home := first.route
			if chance(0.5) {
				home = second.route
			}
			fam = pickW(home.mix)
			// The way back: second's route inbound, then first's route outbound.
			var backs [][2]*flight
			for s := 1; s <= 5; s++ {
				back := flightOn(retByDay[second.route], second.day+s)
				if back == nil || !fits(back, n) || !back.dep.After(second.arr.Add(12*time.Hour)) {
					continue
				}
				for _, h := range connections(back, n) {
					if h.route == first.route {
						backs = append(backs, [2]*flight{back, h})
						break
					}
				}
			}
			if len(backs) > 0 && chance(0.8) {
				b := pick(backs)
				segs = append(segs, b[0], b[1])
			}
		}
	}
	if kind == "return" {
		// Prefer a stay whose other flight is in the data set: a booking
		// shows its return whenever the return exists.
		type option struct {
			hubOrigin bool
			other     *flight
		}
		var opts []option
		lo, hi := 1, 4
		if layouts[r.typ].wide {
			lo, hi = 2, 5
		}
		for _, hub := range []bool{true, false} {
			for s := lo; s <= hi; s++ {
				var other *flight
				switch {
				case f.outbound && hub: // AMS-X now, X-AMS later
					other = flightOn(retByDay[r], f.day+s)
				case f.outbound && !hub: // X-AMS earlier, now AMS-X home
					other = flightOn(retByDay[r], f.day-s)
				case !f.outbound && hub: // AMS-X earlier, now home
					other = flightOn(outByDay[r], f.day-s)
				default: // X-AMS now, back later
					other = flightOn(outByDay[r], f.day+s)
				}
				if other == nil || !fits(other, n) {
					continue
				}
				a, b := f, other
				if b.dep.Before(a.dep) {
					a, b = b, a
				}
				if b.dep.After(a.arr.Add(12 * time.Hour)) {
					opts = append(opts, option{hub, other})
					if hub {
						opts = append(opts, option{hub, other}) // 2:1 hub origin
					}
				}
			}
		}
		hubOrigin := chance(0.65)
		if len(opts) > 0 && chance(0.9) {
			o := pick(opts)
			hubOrigin = o.hubOrigin
			segs = append(segs, o.other)
		}
		if hubOrigin {
			fam = pickW(hubMix)
		} else {
			fam = pickW(r.mix)
		}
	}
	if kind == "oneway" {
		if f.outbound {
			fam = pickW(hubMix)
		} else {
			fam = pickW(r.mix)
		}
	}
	b := &booking{pnr: newPNR(), cabin: cabin, flights: segs}
	b.persons = newParty(fam, n, cabin)
	addBooking(b, nil)
	for _, p := range b.persons {
		people = append(people, p)
		registerHandles(p)
	}
}

// ---------------------------------------------------------------- demo personas

type demoPax struct {
	name, first, last, fam, tier string
	female                       bool
	handles                      map[string]string
}

type demoSeg struct {
	key   string // "KL0641/2026-11-23"
	seats []string
}

type demoBooking struct {
	pnr   string
	cabin string
	pax   []demoPax
	segs  []demoSeg
}

func seg(key string, seats ...string) demoSeg { return demoSeg{key, seats} }

var demoBookings = []demoBooking{
	{pnr: "X7K2QP", cabin: "economy", pax: []demoPax{{"Anna de Vries", "Anna", "de Vries", "nl", "gold", true, map[string]string{"twitter": "@annadv", "facebook": "anna.devries"}}},
		segs: []demoSeg{seg("KL0641/2026-11-23", "12A"), seg("KL0642/2026-11-26", "16A")}},
	{pnr: "HB4N8R", cabin: "economy", pax: []demoPax{
		{"Sanne Bakker", "Sanne", "Bakker", "nl", "none", true, map[string]string{"facebook": "sanne.bakker.5"}},
		{"Hendrik Bakker", "Hendrik", "Bakker", "nl", "silver", false, map[string]string{}}},
		segs: []demoSeg{seg("KL0641/2026-11-23", "22B", "22C"), seg("KL0642/2026-11-26", "23B", "23C")}},
	{pnr: "LC3T9M", cabin: "economy", pax: []demoPax{{"Camille Laurent", "Camille", "Laurent", "fr", "none", true, map[string]string{"instagram": "@camille.lrt"}}},
		segs: []demoSeg{seg("KL0641/2026-11-23", "31K"), seg("KL0642/2026-11-27", "31K")}},
	{pnr: "FR6W2D", cabin: "economy", pax: []demoPax{{"Lucía Fernández Ruiz", "Lucía", "Fernández Ruiz", "es", "silver", true, map[string]string{"whatsapp": "+34612480915"}}},
		segs: []demoSeg{seg("KL0641/2026-11-23", "27D"), seg("KL0642/2026-11-27", "27D")}},
	{pnr: "KS8P4Z", cabin: "economy", pax: []demoPax{{"Katharina Schmidt", "Katharina", "Schmidt", "de", "none", true, map[string]string{"twitter": "@kathi_schmidt"}}},
		segs: []demoSeg{seg("KL0641/2026-11-23", "18F"), seg("KL0642/2026-11-26", "17F")}},
	{pnr: "WT5Y7C", cabin: "economy", pax: []demoPax{
		{"Emily Whitfield", "Emily", "Whitfield", "en", "none", true, map[string]string{"facebook": "emily.whitfield"}},
		{"Tom Whitfield", "Tom", "Whitfield", "en", "none", false, map[string]string{}}},
		segs: []demoSeg{seg("KL0641/2026-11-23", "10D", "10E"), seg("KL0642/2026-11-26", "10D", "10E")}},
	{pnr: "JC9Q3V", cabin: "economy", pax: []demoPax{{"James O'Connor", "James", "O'Connor", "en", "silver", false, map[string]string{"twitter": "@jamesoc_dublin"}}},
		segs: []demoSeg{seg("KL0641/2026-11-23", "34B"), seg("KL0642/2026-11-26", "33B")}},
	{pnr: "PJ2M6H", cabin: "business", pax: []demoPax{
		{"Marijke Jansen", "Marijke", "Jansen", "nl", "platinum", true, map[string]string{"facebook": "marijke.jansen.3"}},
		{"Peter Jansen", "Peter", "Jansen", "nl", "platinum", false, map[string]string{}}},
		segs: []demoSeg{seg("KL0641/2026-11-22", "3C", "3D"), seg("KL0642/2026-11-26", "2C", "2D")}},
	{pnr: "DJ7R5N", cabin: "economy", pax: []demoPax{{"Julien Dubois", "Julien", "Dubois", "fr", "gold", false, map[string]string{"twitter": "@juliendbs"}}},
		segs: []demoSeg{seg("KL0642/2026-11-26", "40H"), seg("KL1223/2026-11-27", "12A")}},
	{pnr: "QH7M2L", cabin: "economy", pax: []demoPax{{"Carmen Morales Díaz", "Carmen", "Morales Díaz", "es", "none", true, map[string]string{"whatsapp": "+34619073342"}}},
		segs: []demoSeg{seg("KL0642/2026-11-26", "24D"), seg("KL1701/2026-11-27", "14C")}},
	{pnr: "UM4H8F", cabin: "economy", pax: []demoPax{{"Lena Hoffmann", "Lena", "Hoffmann", "de", "none", true, map[string]string{"facebook": "stefan.hoffmann.ffm"}}},
		segs: []demoSeg{seg("KL0642/2026-11-26", "15A")}},
	{pnr: "PR3S9B", cabin: "economy", pax: []demoPax{{"Priya Raman", "Priya", "Raman", "hi", "gold", true, map[string]string{"instagram": "@priya.travels"}}},
		segs: []demoSeg{seg("KL0641/2026-11-23", "29C"), seg("KL0642/2026-11-26", "30C")}},
}

var demoPeople = map[string]*person{} // by name

func addDemoBookings() {
	for _, db := range demoBookings {
		usedPNR[db.pnr] = true
		b := &booking{pnr: db.pnr, cabin: db.cabin}
		fixed := map[*flight][]string{}
		for _, s := range db.segs {
			f := byKey[s.key]
			if f == nil {
				panic("demo flight missing: " + s.key)
			}
			b.flights = append(b.flights, f)
			fixed[f] = s.seats
		}
		for _, dp := range db.pax {
			p := &person{name: dp.name, first: dp.first, last: dp.last, fam: dp.fam, female: dp.female, tier: dp.tier, handles: dp.handles, demo: true}
			for _, k := range []string{"facebook", "twitter", "instagram", "whatsapp"} {
				if h, ok := dp.handles[k]; ok {
					usedHandle[k+" "+h] = true
					p.keys = append(p.keys, k)
				}
			}
			b.persons = append(b.persons, p)
			demoPeople[dp.name] = p
			people = append(people, p)
		}
		addBooking(b, fixed)
	}
}

// ---------------------------------------------------------------- texts

type topic string

const (
	tColdMeal    topic = "cold_meal"
	tSeatBroken  topic = "seat_broken"
	tLostBag     topic = "lost_bag"
	tVegMissing  topic = "veg_meal_missing"
	tCompliment  topic = "compliment"
	tWifi        topic = "wifi"
	tDelay       topic = "delay"
	tCelebration topic = "celebration"
	tElderly     topic = "assistance_elderly"
	tMedical     topic = "medical"
	tMinor       topic = "unaccompanied_minor"
	tWheelchair  topic = "wheelchair"
	tBassinet    topic = "bassinet"
	tUpgrade     topic = "upgrade"
	tConnection  topic = "missed_connection"
)

// Topics about a flight still to come, and about one already flown.
var preTopics = []weighted[topic]{{tCelebration, 14}, {tElderly, 12}, {tMedical, 14}, {tWheelchair, 12}, {tBassinet, 8}, {tUpgrade, 14}, {tConnection, 10}, {tMinor, 8}}
var postTopics = []weighted[topic]{{tColdMeal, 16}, {tSeatBroken, 12}, {tLostBag, 14}, {tVegMissing, 10}, {tCompliment, 14}, {tWifi, 12}, {tDelay, 16}}

func isPre(t topic) bool {
	for _, w := range preTopics {
		if w.v == t {
			return true
		}
	}
	return false
}

// Placeholders: {city} destination of the flight the text is about, {ref}
// an optional reference " (KL641, seat 12A)", {date} its departure date,
// {city2} the connecting flight's destination, {hours} {age} {bage}
// {years} {kid} numbers.
var templates = map[string]map[topic][]string{
	"en": {
		tColdMeal: {
			"My dinner on the flight to {city}{ref} was stone cold in the middle and nobody offered to replace it. Not the standard I expect on a long flight.",
			"Honestly disappointed: the hot meal on my flight to {city}{ref} came out lukewarm and the pasta was still hard. The crew were lovely but the food wasn't.",
			"Cold chicken, cold rice, warm drinks. That was the meal service on my flight to {city}{ref}. Can someone look into what's going on with your catering?",
		},
		tSeatBroken: {
			"My seat on the flight to {city}{ref} wouldn't recline and the screen kept rebooting the whole way. Sitting bolt upright the entire flight. Not great.",
			"The tray table on my seat{ref} was broken and the seat belt buckle kept sticking. Told the crew on the way to {city} but nothing could be done.",
		},
		tLostBag: {
			"Landed in {city}{ref} over an hour ago and my suitcase never showed up on the belt. Filed a report but nobody can tell me where it is. Help?",
			"Still no sign of my bag after my flight to {city}{ref}. It has my medication and my kid's clothes in it. Who can actually tell me something?",
		},
		tVegMissing: {
			"I pre-ordered a vegetarian meal for my flight to {city}{ref} and it wasn't loaded. Ended up with a bread roll and a bag of crisps.",
			"Booked a vegetarian meal weeks ago, confirmed twice, and on the flight to {city}{ref} there was nothing for me. Please make sure this doesn't happen on the way back.",
		},
		tCompliment: {
			"Shout-out to the cabin crew on my flight to {city}{ref}! They noticed my nervous daughter and made her feel like a VIP. Please pass on our thanks 💙",
			"Just wanted to say the crew on the flight to {city}{ref} were fantastic. Calm, funny and genuinely kind during a very bumpy ride. Thank you!",
		},
		tWifi: {
			"Paid for the Wi-Fi pass on my flight to {city}{ref} and it hasn't connected once. Tried restarting everything. Can I get a refund?",
			"Wi-Fi on board{ref} has been down since takeoff. I needed it for work on this flight to {city}. Is there any way to get my money back?",
		},
		tDelay: {
			"Our flight to {city}{ref} left {hours} hours late and we got zero information at the gate. A simple update would have made a huge difference.",
			"{hours} hour delay on the way to {city}{ref} and we missed a dinner we'd planned for months. What compensation are we entitled to?",
		},
		tCelebration: {
			"I'm flying to {city} on {date}{ref} and it's my {bage}th birthday that day! Any chance the crew could do something small? Would make my day 🎂",
			"We're celebrating our {years}th wedding anniversary on our flight to {city} on {date}{ref}. Is there anything special you could arrange on board?",
		},
		tElderly: {
			"I'm travelling to {city} on {date}{ref} with my father, who is {age} and unsteady on his feet. Could the crew keep an eye on him and help him to the toilet?",
			"My mum ({age}) is flying with me to {city} on {date}{ref}. She has early dementia and gets confused easily. Can the crew be aware of it?",
		},
		tMedical: {
			"I'm type 1 diabetic and flying to {city} on {date}{ref}. Can the crew store my insulin in the fridge during the flight? It needs to stay cool.",
			"Severe nut allergy here, flying to {city} on {date}{ref}. Could you let the crew know and maybe ask people near me not to open peanuts? I carry an EpiPen.",
		},
		tMinor: {
			"Our son ({kid}) flies to {city} alone on {date}{ref} as an unaccompanied minor. It's his first time. Could the crew check on him now and then? He's quite shy.",
			"My daughter is {kid} and travelling on her own to {city} on {date}{ref} with the UM service. Can someone make sure she eats and isn't scared?",
		},
		tWheelchair: {
			"I use a wheelchair and fly to {city} on {date}{ref}. Assistance is booked at the airport, but I'll need the on-board wheelchair to get to the toilet. Can you confirm?",
			"Flying to {city} on {date}{ref} after knee surgery. I've booked wheelchair assistance but can't walk down the aisle. Will there be help on board?",
		},
		tBassinet: {
			"We're flying to {city} on {date}{ref} with our 6-month-old. We requested a bassinet but it doesn't show in the booking. Can you make sure we get one?",
			"Travelling with a baby to {city} on {date}{ref}. Is a bassinet seat still available? We're happy to move seats if needed.",
		},
		tUpgrade: {
			"Any chance of an upgrade on my flight to {city} on {date}{ref}? Happy to pay with miles. It's our honeymoon 🥂",
			"Is it possible to upgrade to Business on my flight to {city} on {date}{ref}? The app keeps giving an error when I try to pay.",
		},
		tConnection: {
			"My flight to {city}{ref} is running late and I only have a short connection to {city2}. Will the connecting flight wait, or will I be rebooked?",
			"We're delayed leaving and I have a tight connection in {city} to {city2}. Can someone tell me what happens if I miss it?",
		},
	},
	"nl": {
		tColdMeal: {
			"Mijn warme maaltijd op de vlucht naar {city}{ref} was gewoon koud. Het vlees was in het midden nog bevroren. Niet wat ik van jullie verwacht.",
			"Wat een teleurstelling: het eten op mijn vlucht naar {city}{ref} was lauw en de rijst was hard. De crew was aardig, maar dit kan echt beter.",
		},
		tSeatBroken: {
			"Mijn stoel op de vlucht naar {city}{ref} kon niet naar achteren en het scherm deed het de hele vlucht niet. De hele reis rechtop zitten is geen pretje.",
			"Het tafeltje van mijn stoel{ref} was kapot en de gordel zat vast. Heb het aan boord gemeld op weg naar {city}, maar er kon niks aan gedaan worden.",
		},
		tLostBag: {
			"Al ruim een uur geland in {city}{ref} en mijn koffer is niet op de band verschenen. Melding gedaan, maar niemand weet waar hij is. Wie kan helpen?",
			"Nog steeds geen koffer na mijn vlucht naar {city}{ref}. Mijn medicijnen en de kleren van de kinderen zitten erin. Kan iemand mij iets vertellen?",
		},
		tVegMissing: {
			"Ik had een vegetarische maaltijd besteld voor mijn vlucht naar {city}{ref}, maar die was er niet. Uiteindelijk alleen een broodje gegeten.",
			"Twee keer bevestigd dat ik vegetarisch eet, en toch was er niets voor mij aan boord op weg naar {city}{ref}. Graag zorgen dat het op de terugvlucht wel goed gaat.",
		},
		tCompliment: {
			"Wat een topcrew op mijn vlucht naar {city}{ref}! Ze zagen dat mijn dochter zenuwachtig was en hebben haar als een prinses behandeld. Dank jullie wel 💙",
			"Even een compliment voor de bemanning op de vlucht naar {city}{ref}: rustig, grappig en ontzettend behulpzaam tijdens de turbulentie. Bedankt!",
		},
		tWifi: {
			"Wifi-pas gekocht voor mijn vlucht naar {city}{ref}, maar hij maakt geen verbinding. Alles al opnieuw opgestart. Kan ik mijn geld terugkrijgen?",
			"De wifi aan boord{ref} doet het al sinds vertrek niet. Ik moest werken op deze vlucht naar {city}. Krijg ik het bedrag terug?",
		},
		tDelay: {
			"Onze vlucht naar {city}{ref} vertrok {hours} uur te laat en bij de gate kregen we geen enkele informatie. Een simpele update had zoveel gescheeld.",
			"{hours} uur vertraging op weg naar {city}{ref} en daardoor een etentje gemist dat al maanden gepland stond. Waar hebben we recht op?",
		},
		tCelebration: {
			"Ik vlieg op {date} naar {city}{ref} en word die dag {bage}! Zou de crew iets kleins kunnen doen? Dat zou mijn dag helemaal goed maken 🎂",
			"Wij vieren ons {years}-jarig huwelijk tijdens onze vlucht naar {city} op {date}{ref}. Is er aan boord iets leuks te regelen?",
		},
		tElderly: {
			"Ik reis op {date} naar {city}{ref} met mijn vader van {age}. Hij is wat wankel ter been. Kan de bemanning een oogje in het zeil houden en hem helpen naar het toilet?",
			"Mijn moeder ({age}) vliegt op {date} met mij mee naar {city}{ref}. Ze is beginnend dement en raakt snel in de war. Kan de crew daar rekening mee houden?",
		},
		tMedical: {
			"Ik heb diabetes type 1 en vlieg op {date} naar {city}{ref}. Kan mijn insuline tijdens de vlucht in de koelkast aan boord? Het moet koel blijven.",
			"Ik heb een ernstige notenallergie en vlieg op {date} naar {city}{ref}. Kunnen jullie de crew inlichten en mensen om mij heen vragen geen pinda's te eten?",
		},
		tMinor: {
			"Onze zoon ({kid}) vliegt op {date} alleen naar {city}{ref} met de begeleidingsservice. Het is zijn eerste keer. Kan de crew af en toe even bij hem kijken?",
			"Mijn dochter van {kid} reist op {date} alleen naar {city}{ref}, aangemeld als alleenreizend kind. Willen jullie zorgen dat ze eet en niet bang is?",
		},
		tWheelchair: {
			"Ik zit in een rolstoel en vlieg op {date} naar {city}{ref}. Assistentie op het vliegveld is geregeld, maar aan boord heb ik de boordrolstoel nodig voor het toilet. Klopt dat?",
			"Na een knieoperatie vlieg ik op {date} naar {city}{ref}. Rolstoelassistentie is aangevraagd, maar ik kan niet door het gangpad lopen. Is er hulp aan boord?",
		},
		tBassinet: {
			"We vliegen op {date} naar {city}{ref} met onze baby van 6 maanden. We hebben een babybedje aangevraagd, maar het staat niet in de boeking. Kunnen jullie dat regelen?",
			"Met een baby op reis naar {city} op {date}{ref}. Is er nog een plek met babywieg beschikbaar? We willen best van stoel wisselen.",
		},
		tUpgrade: {
			"Is er een kans op een upgrade op mijn vlucht naar {city} op {date}{ref}? Betaal graag met Miles. We zijn op huwelijksreis 🥂",
			"Kan ik upgraden naar Business op mijn vlucht naar {city} op {date}{ref}? De app geeft steeds een foutmelding bij het betalen.",
		},
		tConnection: {
			"Mijn vlucht naar {city}{ref} heeft vertraging en ik heb maar een korte overstap naar {city2}. Wacht de aansluitende vlucht of word ik omgeboekt?",
			"We vertrekken later dan gepland en mijn overstap in {city} naar {city2} is krap. Wat gebeurt er als ik die mis?",
		},
	},
	"fr": {
		tColdMeal: {
			"Mon repas sur le vol pour {city}{ref} était froid, la viande encore congelée au milieu. Ce n'est pas ce que j'attends de votre compagnie.",
			"Quelle déception : le plat chaud sur mon vol pour {city}{ref} était tiède et le riz tout dur. L'équipage était adorable, mais le repas non.",
		},
		tSeatBroken: {
			"Mon siège sur le vol pour {city}{ref} ne s'inclinait pas et l'écran redémarrait sans arrêt. Tout le vol assis bien droit, franchement pénible.",
			"La tablette de mon siège{ref} était cassée et la boucle de ceinture bloquée. Je l'ai signalé à bord sur le vol pour {city}, mais rien n'a pu être fait.",
		},
		tLostBag: {
			"Mon vol pour {city}{ref} a atterri il y a plus d'une heure et ma valise n'est jamais arrivée sur le tapis. Déclaration faite, mais personne ne sait où elle est.",
			"Toujours pas de bagage après mon vol pour {city}{ref}. Il contient mes médicaments et les vêtements des enfants. Quelqu'un peut-il me renseigner ?",
		},
		tVegMissing: {
			"J'avais commandé un repas végétarien pour mon vol pour {city}{ref} et il n'était pas à bord. J'ai mangé un petit pain, c'est tout.",
			"Repas végétarien réservé et confirmé deux fois, et pourtant rien pour moi sur le vol pour {city}{ref}. Merci de vérifier que ce sera correct au retour.",
		},
		tCompliment: {
			"Bravo à l'équipage de mon vol pour {city}{ref} ! Ils ont vu que ma fille avait peur et l'ont traitée comme une princesse. Merci infiniment 💙",
			"Je voulais juste dire que l'équipage du vol pour {city}{ref} a été formidable : calme, drôle et vraiment attentionné pendant les turbulences. Merci !",
		},
		tWifi: {
			"J'ai payé le Wi-Fi sur mon vol pour {city}{ref} et il ne s'est jamais connecté. J'ai tout redémarré. Est-il possible d'être remboursé ?",
			"Le Wi-Fi à bord{ref} ne fonctionne pas depuis le décollage. J'en avais besoin pour travailler sur ce vol pour {city}. Un remboursement est-il possible ?",
		},
		tDelay: {
			"Notre vol pour {city}{ref} est parti avec {hours} heures de retard et aucune information à la porte. Une simple annonce aurait tout changé.",
			"{hours} heures de retard sur le vol pour {city}{ref}, et un dîner prévu depuis des mois raté. À quelle indemnisation avons-nous droit ?",
		},
		tCelebration: {
			"Je prends l'avion pour {city} le {date}{ref} et c'est le jour de mes {bage} ans ! L'équipage pourrait-il faire un petit geste ? Ça me ferait très plaisir 🎂",
			"Nous fêtons nos {years} ans de mariage sur notre vol pour {city} le {date}{ref}. Serait-il possible de prévoir une petite attention à bord ?",
		},
		tElderly: {
			"Je pars le {date} pour {city}{ref} avec mon père de {age} ans, qui marche difficilement. L'équipage pourrait-il garder un œil sur lui et l'aider à aller aux toilettes ?",
			"Ma mère ({age} ans) m'accompagne le {date} sur le vol pour {city}{ref}. Elle a un début d'Alzheimer et se perd facilement. L'équipage peut-il être prévenu ?",
		},
		tMedical: {
			"Je suis diabétique de type 1 et je pars pour {city} le {date}{ref}. L'équipage peut-il garder mon insuline au frais pendant le vol ?",
			"J'ai une allergie sévère aux arachides et je pars pour {city} le {date}{ref}. Pouvez-vous prévenir l'équipage ? J'ai un stylo d'adrénaline sur moi.",
		},
		tMinor: {
			"Notre fils ({kid} ans) part seul pour {city} le {date}{ref} en tant que mineur non accompagné. C'est sa première fois. L'équipage pourrait-il passer le voir de temps en temps ?",
			"Ma fille a {kid} ans et voyage seule sur le vol pour {city} le {date}{ref}, avec le service d'accompagnement. Pouvez-vous veiller à ce qu'elle mange et n'ait pas peur ?",
		},
		tWheelchair: {
			"Je me déplace en fauteuil roulant et je pars pour {city} le {date}{ref}. L'assistance au sol est réservée, mais j'aurai besoin du fauteuil de bord pour les toilettes. Pouvez-vous confirmer ?",
			"Je pars pour {city} le {date}{ref} après une opération du genou. J'ai demandé un fauteuil roulant mais je ne peux pas marcher dans l'allée. Y aura-t-il de l'aide à bord ?",
		},
		tBassinet: {
			"Nous partons pour {city} le {date}{ref} avec notre bébé de 6 mois. Nous avons demandé un berceau mais il n'apparaît pas dans la réservation. Pouvez-vous vérifier ?",
			"Voyage avec un bébé sur le vol pour {city} le {date}{ref}. Reste-t-il une place avec berceau ? Nous pouvons changer de sièges si besoin.",
		},
		tUpgrade: {
			"Une chance d'être surclassés sur le vol pour {city} le {date}{ref} ? Je peux payer avec mes Miles. C'est notre voyage de noces 🥂",
			"Est-il possible de passer en Business sur mon vol pour {city} le {date}{ref} ? L'application affiche une erreur au moment du paiement.",
		},
		tConnection: {
			"Mon vol pour {city}{ref} a du retard et ma correspondance pour {city2} est très courte. Le vol suivant va-t-il attendre ou va-t-on me réacheminer ?",
			"Nous partons en retard et ma correspondance à {city} pour {city2} est serrée. Que se passe-t-il si je la rate ?",
		},
	},
	"es": {
		tColdMeal: {
			"La cena en mi vuelo a {city}{ref} estaba helada, la carne aún congelada por dentro. No es lo que espero de ustedes.",
			"Qué decepción: el plato caliente en mi vuelo a {city}{ref} llegó tibio y el arroz duro. La tripulación fue un encanto, pero la comida no.",
		},
		tSeatBroken: {
			"Mi asiento en el vuelo a {city}{ref} no se reclinaba y la pantalla se reiniciaba todo el rato. Todo el vuelo sentado recto, fatal.",
			"La mesita de mi asiento{ref} estaba rota y la hebilla del cinturón atascada. Lo avisé a bordo en el vuelo a {city}, pero no pudieron hacer nada.",
		},
		tLostBag: {
			"Aterricé en {city}{ref} hace más de una hora y mi maleta nunca salió por la cinta. Ya puse la reclamación, pero nadie sabe dónde está. ¿Alguien me ayuda?",
			"Sigo sin maleta después de mi vuelo a {city}{ref}. Lleva mis medicinas y la ropa de los niños. ¿Alguien me puede decir algo?",
		},
		tVegMissing: {
			"Pedí un menú vegetariano para mi vuelo a {city}{ref} y no lo cargaron. Al final comí un panecillo y poco más.",
			"Menú vegetariano reservado y confirmado dos veces, y aun así no había nada para mí en el vuelo a {city}{ref}. Por favor, que no pase lo mismo a la vuelta.",
		},
		tCompliment: {
			"¡Enhorabuena a la tripulación de mi vuelo a {city}{ref}! Vieron que mi hija estaba nerviosa y la trataron como a una princesa. Mil gracias 💙",
			"Solo quería decir que la tripulación del vuelo a {city}{ref} estuvo genial: tranquila, divertida y muy atenta durante las turbulencias. ¡Gracias!",
		},
		tWifi: {
			"Pagué el wifi en mi vuelo a {city}{ref} y no se ha conectado ni una vez. Ya lo he reiniciado todo. ¿Me pueden devolver el dinero?",
			"El wifi a bordo{ref} no funciona desde el despegue. Lo necesitaba para trabajar en este vuelo a {city}. ¿Es posible un reembolso?",
		},
		tDelay: {
			"Nuestro vuelo a {city}{ref} salió con {hours} horas de retraso y en la puerta no nos dieron ninguna información. Un simple aviso habría cambiado mucho.",
			"{hours} horas de retraso en el vuelo a {city}{ref} y nos perdimos una cena planeada desde hace meses. ¿Qué compensación nos corresponde?",
		},
		tCelebration: {
			"Vuelo a {city} el {date}{ref} y ese día cumplo {bage} años. ¿Podría la tripulación tener algún detalle? Me haría muchísima ilusión 🎂",
			"Celebramos nuestro {years} aniversario de boda en el vuelo a {city} del {date}{ref}. ¿Se podría preparar algo especial a bordo?",
		},
		tElderly: {
			"Viajo a {city} el {date}{ref} con mi padre, de {age} años, que camina con dificultad. ¿Podría la tripulación estar pendiente de él y ayudarle a ir al baño?",
			"Mi madre ({age} años) vuela conmigo a {city} el {date}{ref}. Tiene principio de demencia y se desorienta con facilidad. ¿Puede la tripulación estar al tanto?",
		},
		tMedical: {
			"Tengo diabetes tipo 1 y vuelo a {city} el {date}{ref}. ¿Puede la tripulación guardar mi insulina en la nevera durante el vuelo?",
			"Tengo alergia grave a los frutos secos y vuelo a {city} el {date}{ref}. ¿Pueden avisar a la tripulación? Llevo un autoinyector de adrenalina.",
		},
		tMinor: {
			"Nuestro hijo ({kid} años) vuela solo a {city} el {date}{ref} como menor no acompañado. Es su primera vez. ¿Podría la tripulación echarle un ojo de vez en cuando?",
			"Mi hija tiene {kid} años y viaja sola a {city} el {date}{ref} con el servicio de menores. ¿Pueden asegurarse de que coma y no pase miedo?",
		},
		tWheelchair: {
			"Voy en silla de ruedas y vuelo a {city} el {date}{ref}. Tengo asistencia en el aeropuerto, pero a bordo necesitaré la silla de cabina para ir al baño. ¿Me lo confirman?",
			"Vuelo a {city} el {date}{ref} tras una operación de rodilla. He pedido silla de ruedas, pero no puedo caminar por el pasillo. ¿Habrá ayuda a bordo?",
		},
		tBassinet: {
			"Volamos a {city} el {date}{ref} con nuestro bebé de 6 meses. Pedimos una cuna pero no aparece en la reserva. ¿Pueden revisarlo?",
			"Viajamos con un bebé a {city} el {date}{ref}. ¿Queda algún asiento con cuna? No nos importa cambiar de sitio.",
		},
		tUpgrade: {
			"¿Hay alguna posibilidad de upgrade en mi vuelo a {city} el {date}{ref}? Puedo pagar con millas. ¡Es nuestra luna de miel! 🥂",
			"¿Es posible pasar a Business en mi vuelo a {city} del {date}{ref}? La app me da error al pagar.",
		},
		tConnection: {
			"Mi vuelo a {city}{ref} va con retraso y tengo una conexión muy justa a {city2}. ¿Esperará el siguiente vuelo o me recolocarán?",
			"Salimos tarde y mi escala en {city} con destino a {city2} es muy corta. ¿Qué pasa si la pierdo?",
		},
	},
	"de": {
		tColdMeal: {
			"Mein Essen auf dem Flug nach {city}{ref} war eiskalt, das Fleisch innen noch gefroren. Das erwarte ich ehrlich gesagt nicht von Ihnen.",
			"Sehr enttäuschend: Das warme Essen auf meinem Flug nach {city}{ref} war lauwarm und der Reis hart. Die Crew war super, das Essen leider nicht.",
		},
		tSeatBroken: {
			"Mein Sitz auf dem Flug nach {city}{ref} ließ sich nicht verstellen und der Bildschirm ist ständig neu gestartet. Den ganzen Flug kerzengerade sitzen ist kein Spaß.",
			"Der Klapptisch an meinem Sitz{ref} war kaputt und das Gurtschloss klemmte. Habe es auf dem Weg nach {city} an Bord gemeldet, aber nichts zu machen.",
		},
		tLostBag: {
			"Seit über einer Stunde in {city} gelandet{ref} und mein Koffer kam nie aufs Band. Verlustmeldung ist gemacht, aber niemand weiß, wo er ist. Hilfe?",
			"Immer noch kein Gepäck nach meinem Flug nach {city}{ref}. Darin sind meine Medikamente und die Kleidung der Kinder. Kann mir jemand etwas sagen?",
		},
		tVegMissing: {
			"Ich hatte für meinen Flug nach {city}{ref} ein vegetarisches Menü bestellt, es war aber nicht an Bord. Am Ende gab es für mich nur ein Brötchen.",
			"Vegetarisches Essen gebucht und zweimal bestätigt, trotzdem gab es auf dem Flug nach {city}{ref} nichts für mich. Bitte sorgen Sie dafür, dass es auf dem Rückflug klappt.",
		},
		tCompliment: {
			"Ein großes Lob an die Crew auf meinem Flug nach {city}{ref}! Sie haben gemerkt, dass meine Tochter Angst hatte, und sie wie eine Prinzessin behandelt. Danke 💙",
			"Wollte nur sagen: Die Crew auf dem Flug nach {city}{ref} war großartig. Ruhig, witzig und wirklich herzlich bei den Turbulenzen. Vielen Dank!",
		},
		tWifi: {
			"WLAN-Paket auf meinem Flug nach {city}{ref} gekauft, aber es verbindet sich einfach nicht. Alles schon neu gestartet. Bekomme ich das Geld zurück?",
			"Das WLAN an Bord{ref} funktioniert seit dem Start nicht. Ich musste auf diesem Flug nach {city} arbeiten. Ist eine Erstattung möglich?",
		},
		tDelay: {
			"Unser Flug nach {city}{ref} ist mit {hours} Stunden Verspätung gestartet und am Gate gab es null Informationen. Ein kurzes Update hätte so viel geholfen.",
			"{hours} Stunden Verspätung auf dem Flug nach {city}{ref}, ein lange geplantes Abendessen verpasst. Welche Entschädigung steht uns zu?",
		},
		tCelebration: {
			"Ich fliege am {date} nach {city}{ref} und habe an dem Tag meinen {bage}. Geburtstag! Könnte die Crew eine kleine Überraschung machen? Das wäre toll 🎂",
			"Wir feiern auf unserem Flug nach {city} am {date}{ref} unseren {years}. Hochzeitstag. Ließe sich an Bord etwas Besonderes arrangieren?",
		},
		tElderly: {
			"Ich reise am {date} mit meinem Vater ({age}) nach {city}{ref}. Er ist nicht mehr gut zu Fuß. Könnte die Crew ein Auge auf ihn haben und ihm zur Toilette helfen?",
			"Meine Mutter ({age}) fliegt am {date} mit mir nach {city}{ref}. Sie ist leicht dement und schnell verwirrt. Kann die Crew darüber Bescheid wissen?",
		},
		tMedical: {
			"Ich habe Typ-1-Diabetes und fliege am {date} nach {city}{ref}. Kann die Crew mein Insulin während des Flugs im Kühlschrank lagern?",
			"Ich habe eine schwere Nussallergie und fliege am {date} nach {city}{ref}. Können Sie die Crew informieren? Ich habe einen Adrenalin-Autoinjektor dabei.",
		},
		tMinor: {
			"Unser Sohn ({kid}) fliegt am {date} allein nach {city}{ref}, als begleitetes Kind angemeldet. Es ist sein erster Flug. Könnte die Crew ab und zu nach ihm schauen?",
			"Meine Tochter ist {kid} und fliegt am {date} allein nach {city}{ref}, mit dem Betreuungsservice. Können Sie darauf achten, dass sie isst und keine Angst hat?",
		},
		tWheelchair: {
			"Ich sitze im Rollstuhl und fliege am {date} nach {city}{ref}. Die Assistenz am Flughafen ist gebucht, aber an Bord brauche ich den Bordrollstuhl für die Toilette. Ist das sichergestellt?",
			"Ich fliege am {date} nach einer Knie-OP nach {city}{ref}. Rollstuhl ist bestellt, aber ich kann nicht durch den Gang laufen. Gibt es an Bord Hilfe?",
		},
		tBassinet: {
			"Wir fliegen am {date} mit unserem 6 Monate alten Baby nach {city}{ref}. Wir haben ein Babybett angefragt, aber es steht nicht in der Buchung. Können Sie das prüfen?",
			"Mit Baby unterwegs nach {city} am {date}{ref}. Gibt es noch einen Platz mit Babybett? Wir tauschen gern die Sitze.",
		},
		tUpgrade: {
			"Gibt es eine Chance auf ein Upgrade auf meinem Flug nach {city} am {date}{ref}? Zahle gern mit Meilen. Wir sind auf Hochzeitsreise 🥂",
			"Kann ich auf meinem Flug nach {city} am {date}{ref} auf Business upgraden? Die App zeigt beim Bezahlen immer einen Fehler.",
		},
		tConnection: {
			"Mein Flug nach {city}{ref} hat Verspätung und mein Anschluss nach {city2} ist knapp. Wartet der Anschlussflug oder werde ich umgebucht?",
			"Wir starten später als geplant und mein Umstieg in {city} nach {city2} ist sehr knapp. Was passiert, wenn ich ihn verpasse?",
		},
	},
	"pt": {
		tColdMeal: {
			"A refeição no meu voo para {city}{ref} estava gelada, a carne ainda congelada por dentro. Não é o que espero de vocês.",
			"Que decepção: o prato quente no meu voo para {city}{ref} veio morno e o arroz duro. A tripulação foi ótima, mas a comida não.",
		},
		tSeatBroken: {
			"Minha poltrona no voo para {city}{ref} não reclinava e a tela reiniciava o tempo todo. O voo inteiro sentado reto, horrível.",
			"A mesinha da minha poltrona{ref} estava quebrada e a fivela do cinto emperrada. Avisei a tripulação no voo para {city}, mas não deu para fazer nada.",
		},
		tLostBag: {
			"Meu voo para {city}{ref} pousou há mais de uma hora e minha mala nunca apareceu na esteira. Já registrei, mas ninguém sabe onde ela está. Alguém ajuda?",
			"Continuo sem bagagem depois do meu voo para {city}{ref}. Estão lá meus remédios e as roupas das crianças. Alguém pode me dar uma resposta?",
		},
		tVegMissing: {
			"Pedi refeição vegetariana para o meu voo para {city}{ref} e ela não foi embarcada. Acabei comendo só um pãozinho.",
			"Refeição vegetariana reservada e confirmada duas vezes, e mesmo assim não havia nada para mim no voo para {city}{ref}. Por favor, garantam que na volta dê certo.",
		},
		tCompliment: {
			"Parabéns à tripulação do meu voo para {city}{ref}! Perceberam que minha filha estava nervosa e a trataram como uma princesa. Valeu demais 💙",
			"Só queria dizer que a tripulação do voo para {city}{ref} foi incrível: calma, divertida e muito atenciosa durante a turbulência. Muito obrigado!",
		},
		tWifi: {
			"Paguei o Wi-Fi no meu voo para {city}{ref} e não conectou nenhuma vez. Já reiniciei tudo. Posso ter o dinheiro de volta?",
			"O Wi-Fi a bordo{ref} não funciona desde a decolagem. Eu precisava trabalhar neste voo para {city}. É possível um reembolso?",
		},
		tDelay: {
			"Nosso voo para {city}{ref} saiu com {hours} horas de atraso e no portão ninguém deu informação nenhuma. Um simples aviso teria feito toda a diferença.",
			"{hours} horas de atraso no voo para {city}{ref} e perdemos um jantar planejado há meses. A que compensação temos direito?",
		},
		tCelebration: {
			"Vou voar para {city} no dia {date}{ref} e nesse dia faço {bage} anos! A tripulação poderia fazer uma pequena surpresa? Ia adorar 🎂",
			"Comemoramos {years} anos de casados no voo para {city} no dia {date}{ref}. Seria possível preparar algo especial a bordo?",
		},
		tElderly: {
			"Viajo para {city} no dia {date}{ref} com meu pai, de {age} anos, que tem dificuldade para andar. A tripulação poderia ficar de olho nele e ajudá-lo a ir ao banheiro?",
			"Minha mãe ({age} anos) voa comigo para {city} no dia {date}{ref}. Ela tem início de demência e fica confusa com facilidade. A tripulação pode ser avisada?",
		},
		tMedical: {
			"Tenho diabetes tipo 1 e voo para {city} no dia {date}{ref}. A tripulação pode guardar minha insulina na geladeira durante o voo?",
			"Tenho alergia grave a amendoim e voo para {city} no dia {date}{ref}. Podem avisar a tripulação? Levo uma caneta de adrenalina comigo.",
		},
		tMinor: {
			"Nosso filho ({kid} anos) viaja sozinho para {city} no dia {date}{ref} como menor desacompanhado. É a primeira vez dele. A tripulação pode dar uma olhada nele de vez em quando?",
			"Minha filha tem {kid} anos e viaja sozinha para {city} no dia {date}{ref}, com o serviço de acompanhamento. Podem garantir que ela coma e não fique com medo?",
		},
		tWheelchair: {
			"Sou cadeirante e voo para {city} no dia {date}{ref}. A assistência no aeroporto está marcada, mas a bordo vou precisar da cadeira de rodas de bordo para ir ao banheiro. Podem confirmar?",
			"Voo para {city} no dia {date}{ref} depois de uma cirurgia no joelho. Pedi cadeira de rodas, mas não consigo andar pelo corredor. Vai ter ajuda a bordo?",
		},
		tBassinet: {
			"Vamos voar para {city} no dia {date}{ref} com nosso bebê de 6 meses. Pedimos um berço, mas ele não aparece na reserva. Podem verificar?",
			"Viajando com um bebê para {city} no dia {date}{ref}. Ainda há assento com berço disponível? Podemos trocar de lugar se precisar.",
		},
		tUpgrade: {
			"Tem alguma chance de upgrade no meu voo para {city} no dia {date}{ref}? Posso pagar com milhas. É a nossa lua de mel 🥂",
			"É possível mudar para a Business no meu voo para {city} no dia {date}{ref}? O app dá erro na hora de pagar.",
		},
		tConnection: {
			"Meu voo para {city}{ref} está atrasado e minha conexão para {city2} é bem curta. O próximo voo vai esperar ou vão me remarcar?",
			"Saímos atrasados e minha conexão em {city} para {city2} é apertada. O que acontece se eu perder?",
		},
	},
	"it": {
		tColdMeal: {
			"Il pasto sul mio volo per {city}{ref} era freddo, la carne ancora congelata al centro. Non è quello che mi aspetto da voi.",
			"Che delusione: il piatto caldo sul volo per {city}{ref} era tiepido e il riso duro. L'equipaggio gentilissimo, il cibo proprio no.",
		},
		tSeatBroken: {
			"Il mio sedile sul volo per {city}{ref} non si reclinava e lo schermo si riavviava di continuo. Tutto il volo seduti dritti, pessimo.",
			"Il tavolino del mio sedile{ref} era rotto e la fibbia della cintura bloccata. L'ho segnalato a bordo del volo per {city}, ma non si è potuto fare nulla.",
		},
		tLostBag: {
			"Il mio volo per {city}{ref} è atterrato da più di un'ora e la mia valigia non è mai arrivata sul nastro. Ho fatto denuncia, ma nessuno sa dove sia. Aiuto?",
			"Ancora nessun bagaglio dopo il mio volo per {city}{ref}. Dentro ci sono le mie medicine e i vestiti dei bambini. Qualcuno può dirmi qualcosa?",
		},
		tVegMissing: {
			"Avevo ordinato un pasto vegetariano per il volo per {city}{ref} e non era a bordo. Alla fine ho mangiato solo un panino.",
			"Pasto vegetariano prenotato e confermato due volte, eppure sul volo per {city}{ref} non c'era niente per me. Per favore, fate in modo che al ritorno vada bene.",
		},
		tCompliment: {
			"Complimenti all'equipaggio del mio volo per {city}{ref}! Hanno capito che mia figlia era agitata e l'hanno trattata come una principessa. Grazie di cuore 💙",
			"Volevo solo dire che l'equipaggio del volo per {city}{ref} è stato fantastico: calmo, simpatico e davvero premuroso durante le turbolenze. Grazie!",
		},
		tWifi: {
			"Ho pagato il Wi-Fi sul volo per {city}{ref} e non si è mai connesso. Ho già riavviato tutto. Posso avere un rimborso?",
			"Il Wi-Fi a bordo{ref} non funziona dal decollo. Mi serviva per lavorare su questo volo per {city}. È possibile un rimborso?",
		},
		tDelay: {
			"Il nostro volo per {city}{ref} è partito con {hours} ore di ritardo e al gate nessuna informazione. Un semplice aggiornamento avrebbe fatto la differenza.",
			"{hours} ore di ritardo sul volo per {city}{ref} e abbiamo perso una cena programmata da mesi. A quale risarcimento abbiamo diritto?",
		},
		tCelebration: {
			"Volo a {city} il {date}{ref} e quel giorno compio {bage} anni! L'equipaggio potrebbe fare una piccola sorpresa? Sarebbe bellissimo 🎂",
			"Festeggiamo {years} anni di matrimonio sul volo per {city} del {date}{ref}. Si potrebbe organizzare qualcosa di speciale a bordo?",
		},
		tElderly: {
			"Viaggio per {city} il {date}{ref} con mio padre di {age} anni, che cammina a fatica. L'equipaggio potrebbe tenerlo d'occhio e aiutarlo ad andare in bagno?",
			"Mia madre ({age} anni) vola con me per {city} il {date}{ref}. Ha una demenza iniziale e si confonde facilmente. L'equipaggio può esserne informato?",
		},
		tMedical: {
			"Ho il diabete di tipo 1 e volo per {city} il {date}{ref}. L'equipaggio può conservare la mia insulina in frigo durante il volo?",
			"Ho una grave allergia alla frutta secca e volo per {city} il {date}{ref}. Potete avvisare l'equipaggio? Porto con me un autoiniettore di adrenalina.",
		},
		tMinor: {
			"Nostro figlio ({kid} anni) vola da solo per {city} il {date}{ref} come minore non accompagnato. È la sua prima volta. L'equipaggio potrebbe controllarlo ogni tanto?",
			"Mia figlia ha {kid} anni e viaggia da sola per {city} il {date}{ref}, con il servizio di assistenza. Potete assicurarvi che mangi e non abbia paura?",
		},
		tWheelchair: {
			"Sono in sedia a rotelle e volo per {city} il {date}{ref}. L'assistenza in aeroporto è prenotata, ma a bordo mi servirà la sedia di bordo per il bagno. Potete confermare?",
			"Volo per {city} il {date}{ref} dopo un intervento al ginocchio. Ho chiesto la sedia a rotelle, ma non riesco a camminare nel corridoio. Ci sarà aiuto a bordo?",
		},
		tBassinet: {
			"Voliamo per {city} il {date}{ref} con il nostro bimbo di 6 mesi. Abbiamo chiesto la culla ma non compare nella prenotazione. Potete controllare?",
			"In viaggio con un neonato per {city} il {date}{ref}. C'è ancora un posto con culla disponibile? Possiamo cambiare posto se serve.",
		},
		tUpgrade: {
			"C'è qualche possibilità di upgrade sul mio volo per {city} del {date}{ref}? Posso pagare con le miglia. È il nostro viaggio di nozze 🥂",
			"È possibile passare in Business sul volo per {city} del {date}{ref}? L'app mi dà errore al pagamento.",
		},
		tConnection: {
			"Il mio volo per {city}{ref} è in ritardo e la coincidenza per {city2} è molto stretta. Il volo successivo aspetterà o mi sposteranno su un altro volo?",
			"Partiamo in ritardo e il mio scalo a {city} per {city2} è cortissimo. Cosa succede se perdo la coincidenza?",
		},
	},
	"ja": {
		tColdMeal:    {"{city}行きの便{ref}で出された機内食が冷たく、お肉は中がまだ凍っていました。客室乗務員の方は親切でしたが、食事は本当に残念でした。改善をお願いします。"},
		tSeatBroken:  {"{city}行きの便{ref}で座席のリクライニングが壊れていて、モニターも何度も再起動していました。ずっとまっすぐ座ったままで、本当につらいフライトでした。"},
		tLostBag:     {"{city}行きの便{ref}で到着してから1時間以上経ちますが、スーツケースが出てきません。手続きはしましたが、どこにあるか誰にも分からないそうです。助けてください。"},
		tVegMissing:  {"{city}行きの便{ref}でベジタリアンミールを事前に予約していたのに、搭載されていませんでした。結局パンしか食べられませんでした。帰りの便では必ずお願いします。"},
		tCompliment:  {"{city}行きの便{ref}の客室乗務員の皆さん、ありがとうございました！緊張していた娘に優しく声をかけてくださり、娘はとても喜んでいました💙"},
		tWifi:        {"{city}行きの便{ref}で機内Wi-Fiを購入しましたが、一度もつながりません。端末も全部再起動してみました。返金していただけますか？"},
		tDelay:       {"{city}行きの便{ref}が{hours}時間遅れて出発しましたが、ゲートでは何の案内もありませんでした。せめて状況だけでも教えてほしかったです。"},
		tCelebration: {"{date}に{city}行きの便{ref}に乗ります。その日がちょうど{bage}歳の誕生日なんです。機内で何かささやかなお祝いをしていただけたら嬉しいです🎂"},
		tElderly:     {"{date}の{city}行きの便{ref}に{age}歳の父と一緒に乗ります。足元がおぼつかないので、トイレへの移動などを手伝っていただけますか？"},
		tMedical:     {"1型糖尿病です。{date}の{city}行きの便{ref}に乗るのですが、機内でインスリンを冷蔵庫に保管していただくことは可能でしょうか？"},
		tMinor:       {"{kid}歳の息子が{date}の{city}行きの便{ref}に一人で乗ります（お子様の一人旅サービス）。初めてなので、時々様子を見ていただけると助かります。"},
		tWheelchair:  {"車椅子を使用しています。{date}の{city}行きの便{ref}に乗ります。空港でのサポートは予約済みですが、機内でトイレに行くための機内用車椅子は使えますか？"},
		tBassinet:    {"{date}の{city}行きの便{ref}に生後6か月の赤ちゃんと乗ります。バシネットをお願いしたのですが、予約に表示されません。確認していただけますか？"},
		tUpgrade:     {"{date}の{city}行きの便{ref}でビジネスクラスへのアップグレードは可能でしょうか？マイルで支払いたいです。新婚旅行なんです🥂"},
		tConnection:  {"{city}行きの便{ref}が遅れていて、{city2}行きへの乗り継ぎ時間がとても短いです。乗り継ぎ便は待ってくれますか？それとも振替になりますか？"},
	},
}

// Words for references, per language.
type refWords struct {
	seat, booking           string // inline: "(KL641, seat 12A)", "(booking X7K2QP)"
	tBooking, tFlight, tSep string // trailer: "Booking ref X7K2QP.", "Flight KL641, seat 12A."
}

var refs = map[string]refWords{
	"en": {"seat", "booking", "Booking ref", "Flight", "."},
	"nl": {"stoel", "boeking", "Boekingscode", "Vlucht", "."},
	"fr": {"siège", "réservation", "Réservation", "Vol", "."},
	"es": {"asiento", "reserva", "Localizador", "Vuelo", "."},
	"de": {"Sitz", "Buchung", "Buchungscode", "Flug", "."},
	"pt": {"assento", "reserva", "Código da reserva", "Voo", "."},
	"it": {"posto", "prenotazione", "Codice prenotazione", "Volo", "."},
}

var greetings = map[string][]string{
	"en": {"Hi KLM! ", "Hello! ", "Hi there! "},
	"nl": {"Hallo! ", "Hoi KLM! ", "Goedemiddag! "},
	"fr": {"Bonjour ! ", "Bonjour KLM ! "},
	"es": {"¡Hola! ", "¡Buenas! "},
	"de": {"Hallo! ", "Guten Tag! ", "Hallo KLM! "},
	"pt": {"Olá! ", "Oi! "},
	"it": {"Ciao! ", "Buongiorno! "},
	"ja": {"こんにちは。", "お世話になっております。"},
}

var signoffs = map[string][]string{
	"en": {" Thanks!", " Cheers.", " Thanks in advance."},
	"nl": {" Alvast bedankt!", " Groetjes."},
	"fr": {" Merci d'avance.", " Cordialement."},
	"es": {" ¡Gracias!", " Un saludo."},
	"de": {" Danke im Voraus!", " Viele Grüße."},
	"pt": {" Valeu!", " Abraço."},
	"it": {" Grazie mille!", " Saluti."},
	"ja": {"よろしくお願いします。"},
}

var months = map[string][]string{
	"en": {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	"nl": {"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	"es": {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
	"pt": {"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
	"it": {"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
}

func localDate(lang string, t time.Time) string {
	d, m := t.Day(), t.Month()
	switch lang {
	case "ja":
		return fmt.Sprintf("%d月%d日", m, d)
	case "de":
		return fmt.Sprintf("%d. %s", d, months[lang][m-1])
	case "es", "pt":
		return fmt.Sprintf("%d de %s", d, months[lang][m-1])
	default:
		return fmt.Sprintf("%d %s", d, months[lang][m-1])
	}
}

// spokenFlight writes a flight number the way customers type it.
func spokenFlight(number string) string {
	n := strings.TrimLeft(number[2:], "0")
	return pickW([]weighted[string]{{"KL" + n, 45}, {"KL " + n, 25}, {number, 20}, {"kl" + n, 10}})
}

// reference builds the optional flight/booking/seat mention. It returns
// an inline part (for {ref}) or a trailer sentence, never both.
func reference(lang, number, pnr, seat string) (inline, trailer string) {
	fl := spokenFlight(number)
	if chance(0.1) {
		pnr = strings.ToLower(pnr)
	}
	forms := []string{"f", "fs", "p", "fp", "s"}
	if pnr == "" {
		forms = []string{"f", "fs", "s"}
	}
	if seat == "" {
		forms = []string{"f"}
		if pnr != "" {
			forms = append(forms, "p", "fp")
		}
	}
	form := pick(forms)
	asTrailer := chance(0.3)
	if lang == "ja" {
		if asTrailer {
			switch form {
			case "p", "fp":
				return "", "予約番号：" + pnr
			case "fs", "s":
				return "", "便名：" + fl + "、座席：" + seat
			default:
				return "", "便名：" + fl
			}
		}
		switch form {
		case "f":
			return "（" + fl + "便）", ""
		case "fs":
			return "（" + fl + "便、座席" + seat + "）", ""
		case "p":
			return "（予約番号" + pnr + "）", ""
		case "fp":
			return "（" + fl + "便、予約番号" + pnr + "）", ""
		default:
			return "（座席" + seat + "）", ""
		}
	}
	w := refs[lang]
	if asTrailer {
		switch form {
		case "p", "fp":
			return "", w.tBooking + " " + pnr + w.tSep
		case "fs", "s":
			return "", w.tFlight + " " + fl + ", " + w.seat + " " + seat + w.tSep
		default:
			return "", w.tFlight + " " + fl + w.tSep
		}
	}
	switch form {
	case "f":
		return " (" + fl + ")", ""
	case "fs":
		return " (" + fl + ", " + w.seat + " " + seat + ")", ""
	case "p":
		return " (" + w.booking + " " + pnr + ")", ""
	case "fp":
		return " (" + fl + ", " + w.booking + " " + pnr + ")", ""
	default:
		return " (" + w.seat + " " + seat + ")", ""
	}
}

type textVars struct {
	city, city2, date string
	inline, trailer   string
}

func render(lang string, t topic, v textVars, public bool, channel string) string {
	tpl := pick(templates[lang][t])
	r := strings.NewReplacer(
		"{city}", v.city, "{city2}", v.city2, "{date}", v.date, "{ref}", v.inline,
		"{hours}", strconv.Itoa(between(2, 5)), "{age}", strconv.Itoa(between(78, 92)),
		"{bage}", strconv.Itoa(pick([]int{30, 40, 50, 60, 65, 70, 75, 80})),
		"{years}", strconv.Itoa(pick([]int{10, 20, 25, 30, 40, 50})), "{kid}", strconv.Itoa(between(7, 14)),
	)
	body := r.Replace(tpl)
	sep := " "
	if lang == "ja" {
		sep = ""
	}
	greet, sign, prefix := "", "", ""
	if chance(0.25) {
		greet = pick(greetings[lang])
	}
	if t != tCompliment && chance(0.25) {
		sign = pick(signoffs[lang])
		if lang == "ja" {
			sign = strings.TrimSpace(sign)
		}
	}
	if channel == "twitter" && public && chance(0.6) {
		prefix = "@KLM "
		greet = ""
	}
	trailer := ""
	if v.trailer != "" {
		trailer = sep + v.trailer
	}
	for {
		s := prefix + greet + body + trailer + sign
		if n := utf8.RuneCountInString(s); n <= maxText {
			if n < minText {
				panic(fmt.Sprintf("text too short (%d): %s", n, s))
			}
			return s
		}
		switch {
		case sign != "":
			sign = ""
		case greet != "":
			greet = ""
		case prefix != "":
			prefix = ""
		default:
			panic(fmt.Sprintf("text too long: %s", s))
		}
	}
}

// ---------------------------------------------------------------- enquiries

type enquiry struct {
	Channel      string `json:"channel"`
	ExternalID   string `json:"external_id"`
	Handle       string `json:"handle"`
	Customer     string `json:"customer"`
	Text         string `json:"text"`
	Language     string `json:"language"`
	ReceivedAt   string `json:"received_at"`
	Public       bool   `json:"public"`
	Followers    int    `json:"followers"`
	Flight       string `json:"flight"`
	Date         string `json:"date"`
	Seat         string `json:"seat"`
	Instructions string `json:"instructions,omitempty"`

	at time.Time
}

var channels = []weighted[string]{{"facebook", 22}, {"messenger", 18}, {"twitter", 25}, {"instagram", 10}, {"whatsapp", 8}, {"wechat", 3}, {"youtube", 4}, {"reddit", 5}, {"snapchat", 5}}

func handleKey(channel string) string {
	if channel == "messenger" {
		return "facebook"
	}
	return channel
}

func isPublic(channel string) bool {
	switch channel {
	case "twitter":
		return chance(0.6)
	case "facebook":
		return chance(0.85)
	case "instagram":
		return chance(0.5)
	case "youtube", "reddit":
		return true
	}
	return false
}

func lognormal(median, sigma float64, cap int) int {
	v := median * math.Exp(sigma*rng.NormFloat64())
	return min(int(v), cap)
}

func followers(channel string) int {
	switch channel {
	case "twitter":
		if chance(0.01) {
			return between(50_000, 900_000)
		}
		return lognormal(250, 1.5, 3_000_000)
	case "facebook":
		return lognormal(150, 1.2, 500_000)
	case "instagram":
		if chance(0.02) {
			return between(20_000, 400_000)
		}
		return lognormal(400, 1.6, 2_000_000)
	case "youtube":
		return lognormal(5, 2.2, 1_000_000)
	case "reddit":
		return lognormal(20, 1.5, 100_000)
	}
	return 0
}

const twitterEpochMs = 1288834974657

func externalID(channel string, at time.Time) string {
	for {
		var id string
		switch channel {
		case "twitter":
			sf := (at.UnixMilli()-twitterEpochMs)<<22 | int64(rng.IntN(1<<22))
			id = "tw-" + strconv.FormatInt(sf, 10)
		case "facebook":
			id = "fb-109238745612873_" + "10" + digits(15)
		case "messenger":
			id = "ms-m_" + randStr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 30)
		case "instagram":
			id = "ig-18" + digits(15)
		case "whatsapp":
			id = "wa-wamid.HBgL" + randStr("ABCDEF0123456789", 32)
		case "wechat":
			id = "wc-7" + digits(18)
		case "youtube":
			id = "yt-Ugz" + randStr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 17) + "4AaABAg"
		case "reddit":
			id = "rd-t1_" + randStr("abcdefghijklmnopqrstuvwxyz0123456789", 7)
		case "snapchat":
			h := randStr("0123456789abcdef", 32)
			id = "sc-" + h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + string("89ab"[rng.IntN(4)]) + h[17:20] + "-" + h[20:]
		default:
			panic(channel)
		}
		if !usedExtID[id] {
			usedExtID[id] = true
			return id
		}
	}
}

func displayName(p *person, channel, handle string) string {
	if channel == "reddit" {
		return strings.TrimPrefix(handle, "u/")
	}
	switch x := rng.IntN(100); {
	case x < 75:
		return p.name
	case x < 90 && !names[p.fam].familyFirst:
		return p.first + " " + strings.ToUpper(fold(p.last)[:1]) + "."
	default:
		return p.first
	}
}

func pickLang(fam string) string { return pickW(writeLangs[fam]) }

// nextAfter returns the first segment of p's trip after s that departs
// after t, or nil.
func nextAfter(p *person, s *segment, t time.Time) *segment {
	after := false
	for _, x := range p.segs {
		if x == s {
			after = true
			continue
		}
		if after && x.f.dep.After(t) {
			return x
		}
	}
	return nil
}

func connectionAfter(p *person, s *segment) *segment {
	for i, x := range p.segs {
		if x == s && i+1 < len(p.segs) {
			n := p.segs[i+1]
			if gap := n.f.dep.Sub(s.f.arr); gap >= minConnect && gap <= maxConnect {
				return n
			}
		}
	}
	return nil
}

// receivedFor returns when a message on topic t about segment s arrives.
func receivedFor(t topic, f *flight) time.Time {
	block := f.arr.Sub(f.dep)
	switch t {
	case tConnection:
		return f.dep.Add(-dur(20*time.Minute, 3*time.Hour))
	case tColdMeal, tVegMissing:
		lo := f.arr.Add(-90 * time.Minute)
		if lo.Before(f.dep.Add(40 * time.Minute)) {
			lo = f.arr
		}
		return lo.Add(dur(0, 36*time.Hour))
	case tSeatBroken:
		return f.arr.Add(dur(-30*time.Minute, 36*time.Hour))
	case tLostBag:
		return f.arr.Add(dur(40*time.Minute, 30*time.Hour))
	case tCompliment:
		return f.arr.Add(dur(10*time.Minute, 48*time.Hour))
	case tWifi:
		if block > 2*time.Hour {
			return f.dep.Add(dur(40*time.Minute, block-20*time.Minute))
		}
		return f.arr.Add(dur(5*time.Minute, 6*time.Hour))
	case tDelay:
		return f.arr.Add(dur(15*time.Minute, 24*time.Hour))
	}
	// Requests for an upcoming flight.
	return f.dep.Add(-dur(3*time.Hour, 96*time.Hour))
}

// pickTopic chooses a topic that fits the passenger's trip around s.
func pickTopic(p *person, s *segment, allowMinor bool) topic {
	for {
		var t topic
		if chance(0.45) {
			t = pickW(preTopics)
		} else {
			t = pickW(postTopics)
		}
		switch t {
		case tMinor:
			if !allowMinor || p == nil || len(p.booking.persons) != 1 {
				continue
			}
		case tConnection:
			if p != nil && connectionAfter(p, s) == nil {
				continue
			}
		case tBassinet, tElderly:
			if p != nil && len(p.booking.persons) < 2 && chance(0.7) {
				continue
			}
		}
		return t
	}
}

// passengerEnquiry writes an enquiry from (or about) passenger p.
func passengerEnquiry(p *person, channel, handle, customer string, mention float64, allowMinor bool) *enquiry {
	s := pick(p.segs)
	t := pickTopic(p, s, allowMinor)
	if t == tMinor {
		// A parent writes; the passenger is the child.
		parentFirst := pick(names[p.fam].female)
		if chance(0.4) {
			parentFirst = pick(names[p.fam].male)
		}
		parent := &person{first: parentFirst, last: p.last, fam: p.fam}
		parent.name = parentFirst + " " + p.last
		if names[p.fam].familyFirst {
			parent.name = p.last + " " + parentFirst
		}
		handle = makeHandle(handleKey(channel), parent.first, parent.last, parent.fam)
		customer = displayName(parent, channel, handle)
	}
	at := receivedFor(t, s.f)
	target := s
	if !isPre(t) {
		if n := nextAfter(p, s, at); n != nil {
			target = n
		}
	}
	lang := pickLang(p.fam)
	v := textVars{city: cities[s.f.Destination][lang], date: localDate(lang, s.f.dep)}
	if t == tConnection {
		v.city2 = cities[connectionAfter(p, s).f.Destination][lang]
	}
	if chance(mention) {
		v.inline, v.trailer = reference(lang, s.f.Number, p.booking.pnr, s.seat)
	}
	public := isPublic(channel)
	return &enquiry{
		Channel: channel, ExternalID: externalID(channel, at), Handle: handle, Customer: customer,
		Text: render(lang, t, v, public, channel), Language: lang, ReceivedAt: at.Format(time.RFC3339),
		Public: public, Followers: followers(channel),
		Flight: target.f.Number, Date: target.f.Date, Seat: target.seat, at: at,
	}
}

// strangerEnquiry is from someone who is not in the manifests.
func strangerEnquiry(channel string) *enquiry {
	fam := pickW(hubMix)
	if chance(0.5) {
		fam = pickW(pick(routes).mix)
	}
	female := chance(0.5)
	full, first, last := makeName(fam, female, "")
	p := &person{name: full, first: first, last: last, fam: fam}
	handle := makeHandle(handleKey(channel), first, last, fam)
	customer := displayName(p, channel, handle)
	t := pickTopic(nil, nil, true)
	lang := pickLang(fam)
	// They talk about a real day and destination, just not as a passenger
	// on our manifests (booked elsewhere, or on a flight not in the set).
	f := pick(flights)
	dest := f.Destination
	at := receivedFor(t, f)
	v := textVars{date: localDate(lang, f.dep)}
	if chance(0.3) {
		ff := pick(foreignFlights)
		dest = ff.dest
		v.inline, v.trailer = reference(lang, ff.number, "", "")
	}
	v.city = cities[dest][lang]
	if t == tConnection {
		v.city = cities["AMS"][lang]
		v.city2 = cities[pick(routes).dest][lang]
	}
	public := isPublic(channel)
	return &enquiry{
		Channel: channel, ExternalID: externalID(channel, at), Handle: handle, Customer: customer,
		Text: render(lang, t, v, public, channel), Language: lang, ReceivedAt: at.Format(time.RFC3339),
		Public: public, Followers: followers(channel), at: at,
	}
}

type demoEnquiry struct {
	channel, who, customer, lang, at string
	public                           bool
	followers                        int
	flight, text, instructions       string
}

var demoEnquiries = []demoEnquiry{
	{"twitter", "Anna de Vries", "Anna de Vries", "en", "2026-11-22T08:14:03Z", true, 1200, "KL0641/2026-11-23",
		"@KLM Flying KL641 to New York tomorrow and it's my 40th birthday 🎂 Any chance of a little something on board? I'm in 12A. Would make my day!",
		"Anna de Vries (12A, Gold) turns 40 on the day of the flight. After the main meal service, wish her a happy birthday from the crew and bring a glass of champagne with a birthday card from the purser's kit. She asked publicly on Twitter, so a photo moment is welcome if she wants one."},
	{"messenger", "Sanne Bakker", "Sanne Bakker", "nl", "2026-11-21T19:42:10Z", false, 0, "KL0641/2026-11-23",
		"Goedenavond! Maandag vlieg ik met mijn vader (84) met KL641 naar New York, wij zitten op 22B en 22C. Hij heeft rolstoelassistentie, maar kan aan boord niet zelf naar het toilet lopen. Kan de bemanning helpen met de boordrolstoel?",
		"Hendrik Bakker (22C, 84) cannot walk to the lavatory on his own. Offer the on-board wheelchair after take-off, before the meal service and before descent. His daughter Sanne (22B) travels with him and will ask. A wheelchair is booked at the door at JFK: he leaves the aircraft last."},
	{"instagram", "Camille Laurent", "Camille Laurent", "fr", "2026-11-22T16:05:47Z", false, 640, "KL0641/2026-11-23",
		"Bonjour ! Je prends le KL641 lundi pour New York (siège 31K) et j'ai une allergie sévère aux arachides. J'ai un stylo d'adrénaline sur moi. Est-il possible de prévenir l'équipage ?",
		"Severe peanut allergy: Camille Laurent (31K). Do not serve nut snacks in rows 29 to 33 and give her and her neighbours the nut-free snack; ask her neighbours politely not to eat nuts of their own. She carries an adrenaline auto-injector in her bag: brief the crew working her zone."},
	{"whatsapp", "Lucía Fernández Ruiz", "Lucía Fernández", "es", "2026-11-22T11:30:22Z", false, 0, "KL0641/2026-11-23",
		"Hola, reservé menú vegetariano para el vuelo KL641 del lunes a Nueva York, pero en la app ya no aparece. Mi asiento es el 27D, localizador FR6W2D. ¿Me lo pueden confirmar? ¡Gracias!",
		"Vegetarian meal (VGML) for Lucía Fernández Ruiz (27D) dropped off the booking and was re-added late. Check at catering handover that it is on board; if it is missing, offer her the vegetarian main from the business galley first."},
	{"twitter", "Katharina Schmidt", "Kathi Schmidt", "de", "2026-11-22T20:17:09Z", false, 380, "KL0641/2026-11-23",
		"Hallo KLM, ich fliege am Montag mit KL641 nach New York (Sitz 18F). Ich habe Typ-1-Diabetes und mein Insulin muss gekühlt werden. Kann die Crew es während des Fluges in den Kühlschrank legen?",
		"Type 1 diabetic: Katharina Schmidt (18F). Keep her insulin pouch in the galley chiller (not on dry ice), labelled with her name and seat, and hand it back before descent. Serve her meal early so she can time her dose."},
	{"facebook", "Emily Whitfield", "Emily Whitfield", "en", "2026-11-21T13:02:55Z", true, 230, "KL0641/2026-11-23",
		"We're flying to New York on Monday (KL641) with our 5-month-old. We requested a bassinet but it no longer shows on the booking. Seats 10D and 10E. Can you make sure we get one?",
		"Bassinet for the Whitfield family in 10D/10E (bulkhead), baby of 5 months. Fit the bassinet after take-off, show the parents how it locks, and offer to warm the baby's milk."},
	{"twitter", "James O'Connor", "James O'Connor", "en", "2026-11-24T02:11:38Z", true, 4800, "KL0642/2026-11-26",
		"@KLM Dinner on KL641 today was stone cold, the chicken still half frozen in the middle. Seat 34B. Flying home with you on Thursday (KL642), hoping it's better.",
		"His meal on the outbound KL0641 (23 Nov) was cold and partly frozen. On this flight serve James O'Connor (33B, Silver) first at the meal service, check that his meal is hot, apologise in person and offer a drink from the business cart. He tweeted publicly; ground will reply to him on Twitter after your report."},
	{"messenger", "Marijke Jansen", "Marijke Jansen", "nl", "2026-11-25T15:48:31Z", false, 0, "KL0642/2026-11-26",
		"Hallo! Mijn man en ik vieren donderdag ons 25-jarig huwelijk en vliegen die dag terug met KL642 vanuit New York (stoelen 2C en 2D). Zou de bemanning daar iets leuks mee kunnen doen? Groetjes, Marijke",
		"Silver wedding anniversary (25 years) today for Marijke and Peter Jansen, business 2C/2D, Platinum. Congratulate them after take-off and serve a glass of champagne with an anniversary card signed by the crew."},
	{"twitter", "Julien Dubois", "Julien Dubois", "fr", "2026-11-26T20:55:12Z", true, 310, "KL0642/2026-11-26",
		"@KLM Mon KL642 pour Amsterdam a déjà 1h30 de retard et j'ai une correspondance pour Paris à 8h25. Siège 40H. Est-ce que je vais l'avoir ?",
		"Julien Dubois (40H, Gold) connects at AMS to KL1223 to Paris (08:25 local) and will probably miss it. Ground has protected a seat on the next Paris flight: tell him before landing, give him the transfer card, and move him to a free seat near door 2 so he can leave the aircraft first."},
	{"whatsapp", "Carmen Morales Díaz", "Javier Morales", "es", "2026-11-25T09:37:44Z", false, 0, "KL0642/2026-11-26",
		"Hola, mi madre Carmen Morales, de 79 años, vuelve sola de Nueva York a Madrid el jueves en el KL642 (asiento 24D, reserva QH7M2L). No habla inglés ni neerlandés y le cuesta caminar. ¿Podría la tripulación estar pendiente de ella?",
		"Carmen Morales Díaz (24D, 79) travels alone, speaks only Spanish and walks with difficulty. Check on her during the flight (a Spanish-speaking crew member if there is one), help her with her bag and to the lavatory, and make sure wheelchair assistance meets her at AMS for her connection to Madrid. Her son Javier asked on WhatsApp."},
	{"messenger", "Lena Hoffmann", "Stefan Hoffmann", "de", "2026-11-25T18:20:05Z", false, 0, "KL0642/2026-11-26",
		"Guten Abend! Unsere Tochter Lena (12) fliegt am Donnerstag allein mit KL642 von New York nach Amsterdam, Sitz 15A, als begleitetes Kind angemeldet. Sie hat Flugangst. Könnte jemand ab und zu nach ihr schauen?",
		"Unaccompanied minor Lena Hoffmann (15A, 12 years), nervous flyer. Introduce yourself at boarding, check on her regularly during the flight, and hand her over to the UM escort at AMS. Her father Stefan will collect her."},
	{"instagram", "Priya Raman", "Priya Raman", "en", "2026-11-23T21:40:19Z", true, 15400, "KL0642/2026-11-26",
		"Seat 29C on KL641 today wouldn't recline and the screen was dead for the whole 8 hours 😩 Flying back on KL642 on Thursday, please don't put me in a broken seat again!",
		"Her seat on the outbound (29C on KL0641) would not recline and its screen was dead. Before boarding, check that 30C reclines and its screen works; if not, move her to a working aisle seat nearby. Apologise in person. She has 15k followers on Instagram: close the loop with ground after the flight."},
}

func buildDemo() []*enquiry {
	var out []*enquiry
	for _, d := range demoEnquiries {
		p := demoPeople[d.who]
		if p == nil {
			panic("demo person missing: " + d.who)
		}
		f := byKey[d.flight]
		var s *segment
		for _, x := range p.segs {
			if x.f == f {
				s = x
			}
		}
		if s == nil {
			panic("demo person not on flight: " + d.who + " " + d.flight)
		}
		handle := p.handles[handleKey(d.channel)]
		if handle == "" {
			panic("demo person has no handle for " + d.channel)
		}
		at, err := time.Parse(time.RFC3339, d.at)
		if err != nil {
			panic(err)
		}
		if n := utf8.RuneCountInString(d.text); n < minText || n > maxText {
			panic(fmt.Sprintf("demo text length %d: %s", n, d.text))
		}
		out = append(out, &enquiry{
			Channel: d.channel, ExternalID: externalID(d.channel, at), Handle: handle, Customer: d.customer,
			Text: d.text, Language: d.lang, ReceivedAt: d.at, Public: d.public, Followers: d.followers,
			Flight: f.Number, Date: f.Date, Seat: s.seat, Instructions: d.instructions, at: at,
		})
	}
	return out
}

// ---------------------------------------------------------------- output

type flightRef struct {
	Flight string `json:"flight"`
	Date   string `json:"date"`
}

type paxLine struct {
	Flight  string            `json:"flight"`
	Date    string            `json:"date"`
	Name    string            `json:"name"`
	PNR     string            `json:"pnr"`
	Seat    string            `json:"seat"`
	Cabin   string            `json:"cabin"`
	Tier    string            `json:"tier"`
	Handles map[string]string `json:"handles"`
	Other   []flightRef       `json:"other_flights"`
}

func writeNDJSON[T any](path string, rows []T) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func main() {
	out := flag.String("out", "testdata", "directory to write the files to")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}

	buildFlights()
	addDemoBookings()
	for _, f := range flights {
		for len(f.pax) < f.target {
			makeBooking(f)
		}
	}

	// Enquiries: the demo ones first, then passengers with a known handle,
	// passengers writing from an unknown account, and strangers.
	demo := buildDemo()
	all := append([]*enquiry(nil), demo...)
	var everyone []*person
	for _, p := range people {
		if !p.demo {
			everyone = append(everyone, p)
		}
	}
	for len(all) < numEnquiry {
		ch := pickW(channels)
		key := handleKey(ch)
		cat := pickW([]weighted[string]{{"known", 65}, {"unknown", 15}, {"stranger", 20}})
		if cat == "known" && len(handleOwner[key]) == 0 {
			cat = "unknown"
		}
		switch cat {
		case "known":
			p := pick(handleOwner[key])
			h := p.handles[key]
			all = append(all, passengerEnquiry(p, ch, h, displayName(p, ch, h), 0.63, false))
		case "unknown":
			p := pick(everyone)
			h := makeHandle(key, p.first, p.last, p.fam)
			all = append(all, passengerEnquiry(p, ch, h, displayName(p, ch, h), 0.85, true))
		default:
			all = append(all, strangerEnquiry(ch))
		}
	}
	byTime := func(es []*enquiry) {
		sort.SliceStable(es, func(i, j int) bool {
			if !es[i].at.Equal(es[j].at) {
				return es[i].at.Before(es[j].at)
			}
			return es[i].ExternalID < es[j].ExternalID
		})
	}
	byTime(all)
	byTime(demo)
	plain := make([]enquiry, len(all))
	for i, e := range all {
		plain[i] = *e
		plain[i].Instructions = ""
	}

	var manifest []paxLine
	for _, f := range flights {
		sort.SliceStable(f.pax, func(i, j int) bool {
			ri, li := seatRow(f.pax[i].seat)
			rj, lj := seatRow(f.pax[j].seat)
			if ri != rj {
				return ri < rj
			}
			return li < lj
		})
		for _, s := range f.pax {
			others := []flightRef{}
			for _, x := range s.p.segs {
				if x != s {
					others = append(others, flightRef{x.f.Number, x.f.Date})
				}
			}
			manifest = append(manifest, paxLine{
				Flight: f.Number, Date: f.Date, Name: s.p.name, PNR: s.p.booking.pnr, Seat: s.seat,
				Cabin: s.cab, Tier: s.p.tier, Handles: s.p.handles, Other: others,
			})
		}
	}

	writeNDJSON(filepath.Join(*out, "flights.ndjson"), flights)
	writeNDJSON(filepath.Join(*out, "manifests.ndjson"), manifest)
	writeNDJSON(filepath.Join(*out, "enquiries.ndjson"), plain)
	writeNDJSON(filepath.Join(*out, "demo.ndjson"), demo)
	fmt.Fprintf(os.Stderr, "gen: %d flights, %d manifest lines, %d enquiries, %d demo enquiries in %s\n",
		len(flights), len(manifest), len(plain), len(demo), *out)
}
