package triage_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cabincare/cabincare/server/triage"
)

func ptr(t time.Time) *time.Time { return &t }

// Ensure every rule fires on what it documents, in every supported
// language, and on nothing else.
func TestAssess(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		in    triage.Input
		rules []string
		score int
		level triage.Level
	}{
		{"PrivateThanks", triage.Input{Text: "Just wanted to say the crew were fantastic. Thank you!"}, nil, 0, triage.LevelLow},
		{"PublicComplaint", triage.Input{Text: "The meal on KL641 was cold.", Public: true, Followers: 230}, []string{"public"}, 15, triage.LevelNormal},
		{"Reach1k", triage.Input{Text: "cold meal", Public: true, Followers: 1000}, []string{"public", "reach_1k"}, 25, triage.LevelNormal},
		{"Reach10k", triage.Input{Text: "cold meal", Public: true, Followers: 15_085}, []string{"public", "reach_10k"}, 35, triage.LevelNormal},
		{"Reach100kOnlyHighest", triage.Input{Text: "cold meal", Public: true, Followers: 898_052}, []string{"public", "reach_100k"}, 50, triage.LevelHigh},
		{"ReachPrivate", triage.Input{Text: "cold meal", Followers: 2_000}, []string{"reach_1k"}, 10, triage.LevelLow},

		{"MedicalEN", triage.Input{Text: "I'm type 1 diabetic. Can the crew store my insulin in the fridge?"}, []string{"medical"}, 40, triage.LevelHigh},
		{"MedicalNL", triage.Input{Text: "Ik heb een ernstige notenallergie en vlieg op 23 november naar Dubai."}, []string{"medical"}, 40, triage.LevelHigh},
		{"MedicalFR", triage.Input{Text: "Je suis diabétique de type 1. L'équipage peut-il garder mon insuline au frais ?"}, []string{"medical"}, 40, triage.LevelHigh},
		{"MedicalES", triage.Input{Text: "Tengo alergia grave a los frutos secos. Llevo un autoinyector de adrenalina."}, []string{"medical"}, 40, triage.LevelHigh},
		{"MedicalDE", triage.Input{Text: "Ich habe Typ-1-Diabetes und mein Insulin muss gekühlt werden."}, []string{"medical"}, 40, triage.LevelHigh},
		{"MedicalPT", triage.Input{Text: "Tenho diabetes tipo 1. A tripulação pode guardar minha insulina na geladeira?"}, []string{"medical"}, 40, triage.LevelHigh},
		{"MedicalIT", triage.Input{Text: "Ho una grave allergia alla frutta secca e volo per Roma."}, []string{"medical"}, 40, triage.LevelHigh},
		{"MedicalJA", triage.Input{Text: "1型糖尿病です。機内でインスリンを冷蔵庫に保管していただくことは可能でしょうか？"}, []string{"medical"}, 40, triage.LevelHigh},

		{"MinorEN", triage.Input{Text: "Our son (12) flies to Amsterdam alone as an unaccompanied minor."}, []string{"unaccompanied_minor"}, 40, triage.LevelHigh},
		{"MinorNL", triage.Input{Text: "Mijn dochter van 10 reist alleen, aangemeld als alleenreizend kind."}, []string{"unaccompanied_minor"}, 40, triage.LevelHigh},
		{"MinorES", triage.Input{Text: "Nuestro hijo vuela solo como menor no acompañado."}, []string{"unaccompanied_minor"}, 40, triage.LevelHigh},
		{"MinorDE", triage.Input{Text: "Unsere Tochter fliegt allein, als begleitetes Kind angemeldet."}, []string{"unaccompanied_minor"}, 40, triage.LevelHigh},

		{"ConnectionEN", triage.Input{Text: "We're delayed and I have a tight connection to Paris."}, []string{"missed_connection"}, 35, triage.LevelNormal},
		{"ConnectionFR", triage.Input{Text: "Mon vol a du retard et ma correspondance pour Paris est très courte."}, []string{"missed_connection"}, 35, triage.LevelNormal},
		{"ConnectionDE", triage.Input{Text: "Mein Flug hat Verspätung und mein Anschluss nach Paris ist knapp."}, []string{"missed_connection"}, 35, triage.LevelNormal},
		{"ConnectionIT", triage.Input{Text: "Cosa succede se perdo la coincidenza?"}, []string{"missed_connection"}, 35, triage.LevelNormal},
		{"WifiNotConnection", triage.Input{Text: "The Wi-Fi pass hasn't connected once."}, nil, 0, triage.LevelLow},

		{"LostBagEN", triage.Input{Text: "Landed an hour ago and my suitcase never showed up on the belt."}, []string{"lost_bag"}, 20, triage.LevelNormal},
		{"LostBagDE", triage.Input{Text: "Mein Gepäck ist nicht angekommen."}, []string{"lost_bag"}, 20, triage.LevelNormal},
		{"LostBagPT", triage.Input{Text: "Minha mala não apareceu na esteira."}, []string{"lost_bag"}, 20, triage.LevelNormal},
		{"BagOfCrisps", triage.Input{Text: "Ended up with a bread roll and a bag of crisps."}, nil, 0, triage.LevelLow},
		{"LostBagWithMedication", triage.Input{Text: "Still no sign of my bag. It has my medication in it.", Public: true}, []string{"public", "medical", "lost_bag"}, 75, triage.LevelUrgent},

		{"MobilityEN", triage.Input{Text: "I use a wheelchair and need help to reach the toilet."}, []string{"mobility"}, 20, triage.LevelNormal},
		{"MobilityNL", triage.Input{Text: "Hij is wat wankel ter been."}, []string{"mobility"}, 20, triage.LevelNormal},
		{"MobilityDE", triage.Input{Text: "Er ist nicht mehr gut zu Fuß."}, []string{"mobility"}, 20, triage.LevelNormal},
		{"NameIsNotAWord", triage.Input{Text: "Groetjes, Marijke 't Hart. Hartelijk dank!"}, nil, 0, triage.LevelLow},

		{"Platinum", triage.Input{Text: "cold meal", Tier: "platinum"}, []string{"tier_platinum"}, 20, triage.LevelNormal},
		{"Gold", triage.Input{Text: "cold meal", Tier: "gold"}, []string{"tier_gold"}, 10, triage.LevelLow},
		{"Silver", triage.Input{Text: "cold meal", Tier: "Silver"}, []string{"tier_silver"}, 5, triage.LevelLow},
		{"NoTier", triage.Input{Text: "cold meal", Tier: "none"}, nil, 0, triage.LevelLow},

		{"Departs2h", triage.Input{Text: "birthday", DepartsAt: ptr(now.Add(2 * time.Hour)), Now: now}, []string{"departs_within_3h"}, 35, triage.LevelNormal},
		{"Departs3hExactly", triage.Input{Text: "birthday", DepartsAt: ptr(now.Add(3 * time.Hour)), Now: now}, []string{"departs_within_3h"}, 35, triage.LevelNormal},
		{"Departs20h", triage.Input{Text: "birthday", DepartsAt: ptr(now.Add(20 * time.Hour)), Now: now}, []string{"departs_within_24h"}, 15, triage.LevelNormal},
		{"Departs3Days", triage.Input{Text: "birthday", DepartsAt: ptr(now.Add(72 * time.Hour)), Now: now}, nil, 0, triage.LevelLow},
		{"InFlight", triage.Input{Text: "birthday", DepartsAt: ptr(now.Add(-time.Hour)), ArrivesAt: ptr(now.Add(5 * time.Hour)), Now: now}, []string{"in_flight"}, 30, triage.LevelNormal},
		{"Landed", triage.Input{Text: "birthday", DepartsAt: ptr(now.Add(-9 * time.Hour)), ArrivesAt: ptr(now.Add(-time.Hour)), Now: now}, nil, 0, triage.LevelLow},

		{"UrgentMedicalSoon", triage.Input{Text: "Severe nut allergy, I carry an EpiPen.", DepartsAt: ptr(now.Add(90 * time.Minute)), Now: now}, []string{"medical", "departs_within_3h"}, 75, triage.LevelUrgent},
		{"ConnectionWhileDelayed", triage.Input{Text: "I'll miss my connection to Paris", Tier: "gold", DepartsAt: ptr(now.Add(time.Hour)), Now: now}, []string{"missed_connection", "tier_gold", "departs_within_3h"}, 80, triage.LevelUrgent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.Now.IsZero() {
				tc.in.Now = now
			}
			got := triage.Assess(tc.in)
			var rules []string
			sum := 0
			for _, r := range got.Reasons {
				rules = append(rules, r.Rule)
				sum += r.Points
				if r.Points != triage.Points(r.Rule) || r.Detail == "" {
					t.Errorf("reason %+v: want the rule's points and a detail", r)
				}
			}
			if !slices.Equal(rules, tc.rules) {
				t.Errorf("rules = %v, want %v", rules, tc.rules)
			}
			if got.Score != tc.score || sum != tc.score {
				t.Errorf("score = %d (reasons add to %d), want %d", got.Score, sum, tc.score)
			}
			if got.Level != tc.level {
				t.Errorf("level = %s, want %s", got.Level, tc.level)
			}
		})
	}
}

func TestLevelAndTarget(t *testing.T) {
	sla := 60 * time.Minute
	for _, tc := range []struct {
		score  int
		level  triage.Level
		target time.Duration
	}{
		{0, triage.LevelLow, sla}, {14, triage.LevelLow, sla}, {15, triage.LevelNormal, sla},
		{39, triage.LevelNormal, sla}, {40, triage.LevelHigh, 30 * time.Minute},
		{69, triage.LevelHigh, 30 * time.Minute}, {70, triage.LevelUrgent, 15 * time.Minute}, {300, triage.LevelUrgent, 15 * time.Minute},
	} {
		if got := triage.LevelOf(tc.score); got != tc.level {
			t.Errorf("LevelOf(%d) = %s, want %s", tc.score, got, tc.level)
		}
		if got := triage.Target(tc.level, sla); got != tc.target {
			t.Errorf("Target(%s) = %s, want %s", tc.level, got, tc.target)
		}
	}
}

// Ensure every rule in the table has points and documentation, and every
// word category has words in every supported language.
func TestRuleTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range triage.Rules {
		if r.Points <= 0 || r.Doc == "" || seen[r.ID] {
			t.Errorf("rule %+v: want positive points, a doc and a unique id", r)
		}
		seen[r.ID] = true
	}
	for _, c := range triage.Categories {
		if !seen[c.Rule] {
			t.Errorf("category %s has no rule", c.Rule)
		}
		for _, lang := range triage.Languages {
			if len(c.Words[lang]) == 0 {
				t.Errorf("category %s has no words in %s", c.Rule, lang)
			}
			for _, w := range c.Words[lang] {
				if triage.Normalize(w) != w {
					t.Errorf("category %s word %q is not normalised", c.Rule, w)
				}
			}
		}
	}
}

func TestGuessLanguage(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"My meal on the flight to New York was cold and the crew could not do anything.", "en"},
		{"Mijn warme maaltijd op de vlucht naar Madrid was gewoon koud.", "nl"},
		{"Le repas sur mon vol pour Paris était froid, et je suis déçu.", "fr"},
		{"La cena en mi vuelo a Ámsterdam estaba helada, no es lo que espero.", "es"},
		{"Mein Flug nach Madrid hat Verspätung und ich habe einen knappen Anschluss.", "de"},
		{"Meu voo para Lisboa está atrasado e minha conexão é bem curta.", "pt"},
		{"Il mio volo per Amsterdam è in ritardo e la coincidenza è molto stretta.", "it"},
		{"東京行きの便で出された機内食が冷たかったです。", "ja"},
		{"KL641 12A", "und"},
	} {
		if got := triage.GuessLanguage(tc.text); got != tc.want {
			t.Errorf("GuessLanguage(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
}
