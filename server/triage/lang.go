package triage

import (
	"strings"
	"unicode"
)

// stopwords are frequent short words of each language, as Normalize
// writes them.
var stopwords = map[string][]string{
	"en": {"the", "and", "my", "is", "to", "on", "of", "was", "for", "with", "it", "you", "we", "can", "flight", "this", "have", "thanks", "our", "any", "there"},
	"nl": {"de", "het", "een", "en", "mijn", "is", "op", "van", "naar", "ik", "niet", "met", "wat", "vlucht", "kan", "ons", "onze", "jullie", "wij", "bedankt", "geen", "maar"},
	"fr": {"le", "la", "les", "et", "mon", "ma", "est", "pour", "de", "du", "je", "pas", "vol", "une", "un", "avec", "nous", "vous", "merci", "sur", "qui"},
	"es": {"el", "la", "los", "las", "y", "mi", "es", "para", "de", "del", "que", "no", "vuelo", "una", "un", "con", "muy", "gracias", "por", "nos", "pero"},
	"de": {"der", "die", "das", "und", "mein", "meine", "ist", "nach", "ich", "nicht", "mit", "flug", "ein", "eine", "wir", "sie", "danke", "auf", "im", "am", "hat"},
	"pt": {"o", "a", "os", "as", "e", "meu", "minha", "para", "de", "do", "da", "que", "nao", "voo", "uma", "um", "com", "muito", "obrigad", "por", "no", "na"},
	"it": {"il", "la", "lo", "gli", "e", "mio", "mia", "per", "di", "del", "che", "non", "volo", "una", "un", "con", "molto", "grazie", "sono", "ho", "ma"},
}

// GuessLanguage guesses the language of a message from its script and its
// most frequent words, for channels that do not say it. It answers one of
// Languages, or "und" (undetermined) when nothing stands out.
func GuessLanguage(text string) string {
	kana := 0
	for _, r := range text {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana) {
			kana++
		}
	}
	if kana >= 2 {
		return "ja"
	}
	words := strings.FieldsFunc(Normalize(text), func(r rune) bool { return !unicode.IsLetter(r) })
	best, bestN, second := "und", 0, 0
	for _, lang := range Languages {
		set := stopwords[lang]
		n := 0
		for _, w := range words {
			for _, s := range set {
				if w == s || len(s) > 5 && strings.HasPrefix(w, s) {
					n++
					break
				}
			}
		}
		switch {
		case n > bestN:
			best, bestN, second = lang, n, bestN
		case n > second:
			second = n
		}
	}
	if bestN < 2 || bestN == second {
		return "und"
	}
	return best
}
