package tokenizer

// span is a half-open range of codepoint indices.
type span struct{ start, end int }

// splitGPT2 applies the GPT-2 pre-tokenizer regex
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// within each chunk, written out by hand (Go's regexp has no lookahead) following llama.cpp's
// unicode_regex_split_custom_gpt2: a run of whitespace followed by more text leaves its last
// whitespace character to start the next word. Contractions are case-sensitive, only ASCII ' '
// is the optional leading space, and a chunk boundary acts as the end of the text.
func splitGPT2(cpts []rune, chunks []span, out []span) []span {
	for _, ch := range chunks {
		at := func(p int) rune {
			if p >= ch.start && p < ch.end {
				return cpts[p]
			}
			return outOfRange
		}
		cls := func(p int) cptClass { return classOf(at(p)) }
		prevEnd := ch.start
		emit := func(end int) {
			if end > prevEnd {
				out = append(out, span{prevEnd, end})
			}
			prevEnd = end
		}
		for pos := ch.start; pos < ch.end; {
			c := cpts[pos]
			if c == '\'' && pos+1 < ch.end {
				n1 := cpts[pos+1]
				if n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd' {
					pos += 2
					emit(pos)
					continue
				}
				if pos+2 < ch.end {
					n2 := cpts[pos+2]
					if (n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l') {
						pos += 3
						emit(pos)
						continue
					}
				}
			}
			q := pos // first character after the optional space
			if c == ' ' {
				q = pos + 1
			}
			f := cls(q)
			switch {
			case f&classLetter != 0:
				pos = q
				for cls(pos)&classLetter != 0 {
					pos++
				}
				emit(pos)
				continue
			case f&classNumber != 0:
				pos = q
				for cls(pos)&classNumber != 0 {
					pos++
				}
				emit(pos)
				continue
			case f != 0 && f&(classSpace|classLetter|classNumber) == 0:
				pos = q
				for g := cls(pos); g != 0 && g&(classSpace|classLetter|classNumber) == 0; g = cls(pos) {
					pos++
				}
				emit(pos)
				continue
			}
			nws := 0
			for cls(pos+nws)&classSpace != 0 {
				nws++
			}
			switch {
			case nws > 1 && at(pos+nws) != outOfRange:
				pos += nws - 1 // \s+(?!\S): keep the last whitespace for the next word
			case nws > 0:
				pos += nws
			default:
				pos++
			}
			emit(pos)
		}
	}
	return out
}

// splitRuns splits each chunk into maximal runs of codepoints satisfying in, and the pieces
// between them: a regex "[...]+"-style split as llama.cpp's unicode_regex_split_stl performs it.
func splitRuns(cpts []rune, chunks []span, in func(rune) bool) []span {
	var out []span
	for _, ch := range chunks {
		for p := ch.start; p < ch.end; {
			q := p + 1
			want := in(cpts[p])
			for q < ch.end && in(cpts[q]) == want {
				q++
			}
			out = append(out, span{p, q})
			p = q
		}
	}
	return out
}

// splitDigitTriples splits out every "[0-9][0-9][0-9]" match, scanning left to right.
func splitDigitTriples(cpts []rune, chunks []span) []span {
	isDigit := func(r rune) bool { return r >= '0' && r <= '9' }
	var out []span
	for _, ch := range chunks {
		last := ch.start
		for p := ch.start; p+3 <= ch.end; {
			if isDigit(cpts[p]) && isDigit(cpts[p+1]) && isDigit(cpts[p+2]) {
				if p > last {
					out = append(out, span{last, p})
				}
				out = append(out, span{p, p + 3})
				p += 3
				last = p
				continue
			}
			p++
		}
		if last < ch.end {
			out = append(out, span{last, ch.end})
		}
	}
	return out
}

// defaultPunct is "[\p{P}\$\+<=>\^~\|]" as llama.cpp evaluates it on its collapsed text: ASCII
// punctuation and symbols except '`', and any other codepoint of category P that is not
// whitespace.
func defaultPunct(r rune) bool {
	if r < 0x80 {
		return r > ' ' && r < 0x7F && r != '`' && classOf(r)&(classPunct|classSymbol) != 0
	}
	c := classOf(r)
	return c&classSpace == 0 && c&classPunct != 0
}

// defaultNumber is "\p{N}" on the collapsed text: ASCII digits, or a non-ASCII, non-whitespace
// codepoint of category N.
func defaultNumber(r rune) bool {
	if r < 0x80 {
		return r >= '0' && r <= '9'
	}
	c := classOf(r)
	return c&classSpace == 0 && c&classNumber != 0
}

// pretokenize splits a whole fragment into words. pre "" and "default" select llama.cpp's default
// BPE pre-tokenizer: punctuation runs, then the GPT-2 rules, then number runs, then groups of
// three ASCII digits. Every other supported value uses the GPT-2 rules alone.
func pretokenize(pre string, cpts []rune) []span {
	all := []span{{0, len(cpts)}}
	if len(cpts) == 0 {
		return nil
	}
	if pre != "" && pre != "default" {
		return splitGPT2(cpts, all, nil)
	}
	s := splitRuns(cpts, all, defaultPunct)
	s = splitGPT2(cpts, s, nil)
	s = splitRuns(cpts, s, defaultNumber)
	return splitDigitTriples(cpts, s)
}
