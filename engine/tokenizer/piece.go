package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// PieceString returns b as text if it is valid UTF-8; otherwise its valid parts as text and each
// byte of an invalid sequence as "<0xNN>" (for display in the CLI and JSON).
func PieceString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			fmt.Fprintf(&sb, "<0x%02X>", b[0])
			b = b[1:]
			continue
		}
		sb.Write(b[:n])
		b = b[n:]
	}
	return sb.String()
}
