// Package paint draws what attention does into plain images, with no window and no GPU: the
// raster layer under the interactive scenes, the `attnscope render` command and the tests.
//
// It provides
//   - colormaps: Viridis, Magma and Inferno (sequential, lightness rising monotonically), Greys,
//     and Diverging (blue – white – red) for signed scores, each built from a few sRGB control
//     points interpolated in OKLab; a colour bar (DrawColorbar) with round ticks;
//   - the head view (Heatmap): rows are queries, columns keys, token labels on both axes (keys
//     turned upright), cells a query may not see hatched grey, a colour bar. When there are more
//     tokens than pixels, cells cover blocks of tokens: PoolMax shows a block's largest weight
//     (sharp patterns stay visible; the default), PoolMean its mean over unmasked pairs. The
//     layout (HeatmapLayout) maps pointer positions to cells for interactive use;
//   - the model view (ModelView): every layer × head as a thumbnail, with captions;
//   - the lines view (Lines): tokens in two columns, a line from each query to each key with
//     opacity proportional to the weight, several heads in distinct colours (HeadColor);
//   - the KV-cache chart (KVChart): bytes held against tokens, one stacked band per layer, from
//     the trace's steps;
//   - zoom and scroll (ViewTransform): the window of a map's tokens shown, as one homogeneous 2-D
//     matrix of github.com/go-gl/mathgl (token coordinates to the unit window and back), and
//     Map.Window to cut a map to it; maps of pooled traces (TraceMap, TraceTokens, TraceCell);
//   - export: PNG (WritePNG) and SVG (HeatmapSVG, LinesSVG, and the small SVG writer under
//     them). SVG text is XML-escaped: token text is untrusted and never becomes markup.
//
// Text. Labels are drawn with Go Regular (golang.org/x/image/font/gofont). Go Regular has no
// Hangul, so a Hangul font is read at run time from HangulFontPaths (Debian's fonts-nanum:
// /usr/share/fonts/truetype/nanum/NanumGothic.ttf) or passed to NewFonts, and each rune is drawn
// with the first font that has it. No font file is compiled in. When no font has a rune, the
// label shows it escaped (\uD55C) rather than as a missing-glyph box: without fonts-nanum,
// Hangul tokens read as escapes. TokenLabel also shows spaces as "·" and escapes control
// characters and invalid bytes.
//
// Imports: the standard library, golang.org/x/image (font, opentype, gofont, vector),
// github.com/go-gl/mathgl (mgl64) and, from the engine, only engine/trace.
package paint
