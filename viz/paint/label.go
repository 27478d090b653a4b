package paint

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SpaceMark stands for a space in token labels, so that " " and leading spaces stay visible.
const SpaceMark = "·"

// Ellipsis ends labels that were cut short.
const Ellipsis = "…"

// TokenLabel turns a token's text into a label that can be drawn: spaces become SpaceMark,
// control characters and invalid bytes are escaped (\n, \t, \x01), and, when fonts is not nil,
// any rune that no font can draw is escaped as \uXXXX instead of showing a missing-glyph box
// (Hangul without a Hangul font, for instance). The empty token is shown as "".
func TokenLabel(text string, fonts *Fonts) string {
	if text == "" {
		return `""`
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, text[i])
		case r == ' ':
			b.WriteString(SpaceMark)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r) || (fonts != nil && !fonts.Has(r)):
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08X`, r)
			} else {
				fmt.Fprintf(&b, `\u%04X`, r)
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// Truncate shortens s to at most maxWidth pixels, ending it with Ellipsis when cut.
func Truncate(s string, maxWidth int, fonts *Fonts) string {
	if fonts.Width(s) <= maxWidth {
		return s
	}
	rs := []rune(s)
	// The longest prefix that fits together with the ellipsis (binary search on the rune count).
	lo, hi := 0, len(rs)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fonts.Width(string(rs[:mid])+Ellipsis) <= maxWidth {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return Ellipsis
	}
	return string(rs[:lo]) + Ellipsis
}

// Labels prepares token labels for drawing: TokenLabel, then Truncate to maxWidth pixels.
func Labels(tokens []string, maxWidth int, fonts *Fonts) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = Truncate(TokenLabel(t, fonts), maxWidth, fonts)
	}
	return out
}
