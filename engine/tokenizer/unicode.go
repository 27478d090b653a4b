package tokenizer

import "unicode"

// Codepoint classes as llama.cpp's unicode tables define them: one general category per codepoint
// (unassigned codepoints count as "other", like \p{C} in the regex module that generated them) and
// a separate whitespace bit for the Unicode White_Space property.
type cptClass uint8

const (
	classOther  cptClass = 1 << iota // \p{C}: control, format, private use, surrogate, unassigned
	classLetter                      // \p{L}
	classNumber                      // \p{N}
	classPunct                       // \p{P}
	classSymbol                      // \p{S}
	classMark                        // \p{M}
	classSep                         // \p{Z}
	classSpace                       // White_Space (in addition to the category)
)

// outOfRange marks a position outside the current chunk (flags 0 in llama.cpp).
const outOfRange rune = -1

var latin1Class [256]cptClass

func init() {
	for r := range latin1Class {
		latin1Class[r] = computeClass(rune(r))
	}
}

// classOf returns the class bits of r; r outside [0, 0x10FFFF] (including outOfRange) gives 0.
func classOf(r rune) cptClass {
	if r >= 0 && r < 256 {
		return latin1Class[r]
	}
	if r < 0 || r > unicode.MaxRune {
		return 0
	}
	return computeClass(r)
}

func computeClass(r rune) cptClass {
	var c cptClass
	switch {
	case unicode.IsLetter(r):
		c = classLetter
	case unicode.IsNumber(r):
		c = classNumber
	case unicode.IsPunct(r):
		c = classPunct
	case unicode.IsSymbol(r):
		c = classSymbol
	case unicode.IsMark(r):
		c = classMark
	case unicode.Is(unicode.Z, r):
		c = classSep
	default:
		c = classOther
	}
	if unicode.Is(unicode.White_Space, r) {
		c |= classSpace
	}
	return c
}

// decodeLax splits b into codepoints the way llama.cpp's unicode_cpts_from_utf8 does: lead and
// continuation bits are checked but overlong forms and surrogates are accepted; a byte that does
// not start a well-formed sequence (or one that decodes above U+10FFFF, which llama.cpp cannot
// re-encode) becomes U+FFFD and decoding resumes at the next byte.
func decodeLax(dst []rune, b string) []rune {
	for i := 0; i < len(b); {
		r, n := decodeOne(b, i)
		dst = append(dst, r)
		i += n
	}
	return dst
}

func decodeOne(b string, i int) (rune, int) {
	c0 := b[i]
	cont := func(k int) bool { return i+k < len(b) && b[i+k]&0xC0 == 0x80 }
	switch {
	case c0 < 0x80:
		return rune(c0), 1
	case c0&0x40 == 0:
		return unicode.ReplacementChar, 1
	case c0&0x20 == 0:
		if !cont(1) {
			return unicode.ReplacementChar, 1
		}
		return rune(c0&0x1F)<<6 | rune(b[i+1]&0x3F), 2
	case c0&0x10 == 0:
		if !cont(1) || !cont(2) {
			return unicode.ReplacementChar, 1
		}
		return rune(c0&0x0F)<<12 | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F), 3
	case c0&0x08 == 0:
		if !cont(1) || !cont(2) || !cont(3) {
			return unicode.ReplacementChar, 1
		}
		r := rune(c0&0x07)<<18 | rune(b[i+1]&0x3F)<<12 | rune(b[i+2]&0x3F)<<6 | rune(b[i+3]&0x3F)
		if r > unicode.MaxRune {
			return unicode.ReplacementChar, 1
		}
		return r, 4
	}
	return unicode.ReplacementChar, 1
}

// appendCpt encodes r as UTF-8 without the surrogate check of utf8.AppendRune, as llama.cpp's
// unicode_cpt_to_utf8 does, so surrogates decoded by decodeLax re-encode to their original bytes.
func appendCpt(dst []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(dst, byte(r))
	case r < 0x800:
		return append(dst, 0xC0|byte(r>>6), 0x80|byte(r&0x3F))
	case r < 0x10000:
		return append(dst, 0xE0|byte(r>>12), 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
	}
	return append(dst, 0xF0|byte(r>>18), 0x80|byte(r>>12&0x3F), 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
}

// utf8Len is the sequence length announced by a lead byte (llama.cpp's unicode_len_utf8): 1 for
// ASCII and stray continuation bytes, 2, 3 or 4 otherwise.
func utf8Len(c byte) int {
	switch c >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// GPT-2's byte-level alphabet: every byte maps to a printable rune. Bytes that are printable in
// Latin-1 map to themselves; the other 68 map to U+0100 onwards in byte order.
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = 256 + n
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}
