package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/attnscope/attnscope/engine/presets"
	"github.com/attnscope/attnscope/engine/synth"
)

func init() {
	register(command{"synth", "write a synthetic model (random weights, full tokenizer) of any shape, for benchmarks", cmdSynth})
}

// synthSizes are the shape flags: each sets one field of synth.Options.
var synthSizes = []struct {
	name, usage string
	field       func(o *synth.Options) *int
	required    bool // without --preset
}{
	{"dim", "embedding width", func(o *synth.Options) *int { return &o.Dim }, true},
	{"layers", "number of layers", func(o *synth.Options) *int { return &o.Layers }, true},
	{"heads", "attention heads", func(o *synth.Options) *int { return &o.Heads }, true},
	{"kv-heads", "key/value heads (0: as many as --heads)", func(o *synth.Options) *int { return &o.KVHeads }, false},
	{"ffn", "feed-forward width", func(o *synth.Options) *int { return &o.FFN }, true},
	{"vocab", "vocabulary size", func(o *synth.Options) *int { return &o.Vocab }, true},
	{"ctx", "context length", func(o *synth.Options) *int { return &o.Ctx }, true},
}

// synthOptions merges the preset's shape (if any) with the flags given explicitly.
func synthOptions(fs *flag.FlagSet, preset, typ string, given synth.Options) (synth.Options, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o := given
	if preset != "" {
		p, err := presets.Get(preset)
		if err != nil {
			return o, err
		}
		o = synth.FromPreset(p)
		o.Seed, o.MaxBytes = given.Seed, given.MaxBytes
		if set["arch"] {
			o.Arch = given.Arch
		}
		if set["name"] {
			o.Name = given.Name
		}
	}
	var missing []string
	for _, f := range synthSizes {
		switch {
		case set[f.name]:
			*f.field(&o) = *f.field(&given)
		case preset == "" && f.required:
			missing = append(missing, "--"+f.name)
		}
	}
	if len(missing) > 0 {
		return o, fmt.Errorf("%s required without --preset (presets: %s)", strings.Join(missing, ", "), strings.Join(presets.Names(), ", "))
	}
	t, err := synth.ParseType(typ)
	o.Type = t
	return o, err
}

func cmdSynth(args []string, stdout io.Writer) error {
	err := runSynth(args, stdout)
	if errors.Is(err, synth.ErrTooLarge) {
		err = fmt.Errorf("%w (--max-gib raises the limit)", err)
	}
	if err != nil {
		return unprefixed{err}
	}
	return nil
}

// unprefixed drops the package's "synth: " from a message main prefixes with "attnscope synth: ".
type unprefixed struct{ err error }

func (u unprefixed) Error() string { return strings.TrimPrefix(u.err.Error(), "synth: ") }
func (u unprefixed) Unwrap() error { return u.err }

func runSynth(args []string, stdout io.Writer) error {
	fs := newFlags("synth")
	var (
		o           synth.Options
		preset, typ string
		out         string
		dryRun      bool
		maxGiB      float64
	)
	fs.StringVar(&preset, "preset", "", "named shape: "+strings.Join(presets.Names(), ", ")+" (flags given override its values)")
	fs.StringVar(&o.Arch, "arch", "llama", "architecture: llama or gpt2")
	for _, f := range synthSizes {
		fs.IntVar(f.field(&o), f.name, 0, f.usage)
	}
	fs.StringVar(&typ, "type", "f32", "matrix type: f32, f16, q8_0 or q4_0")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed (the same seed gives the same file)")
	fs.StringVar(&o.Name, "name", "", "general.name (default: the preset's name, or synth-ARCH)")
	fs.StringVar(&out, "o", "", "output `file` (replaced atomically if it exists)")
	fs.Float64Var(&maxGiB, "max-gib", float64(synth.DefaultMaxBytes>>30),
		"refuse files larger than this many GiB (running a model needs about its file size in memory)")
	fs.BoolVar(&dryRun, "dry-run", false, "print the parameter count and file size without writing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !(maxGiB > 0 && maxGiB < 1<<30) {
		return fmt.Errorf("--max-gib %v must be a positive number of GiB", maxGiB)
	}
	o.MaxBytes = int64(maxGiB * (1 << 30))
	o, err := synthOptions(fs, preset, typ, o)
	if err != nil {
		return err
	}
	if dryRun {
		s, err := synth.Estimate(o)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s (dry run, nothing written)\n", orDash(out), synthSummary(o, s))
		return nil
	}
	if out == "" {
		fmt.Fprintf(fs.Output(), "%s: -o FILE is required (or --dry-run)\n", fs.Name())
		fs.Usage()
		return errUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t0 := time.Now()
	s, err := synth.WriteFile(ctx, out, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s, written in %.2fs\n", out, synthSummary(o, s), time.Since(t0).Seconds())
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func synthSummary(o synth.Options, s synth.Size) string {
	kv := o.KVHeads
	if kv == 0 {
		kv = o.Heads
	}
	params := fmt.Sprintf("%.1fM", float64(s.Params)/1e6)
	if s.Params >= 1e9 {
		params = fmt.Sprintf("%.2fB", float64(s.Params)/1e9)
	}
	return fmt.Sprintf("%s %s, dim %d, %d layers, %d heads (%d KV), ffn %d, vocab %d, ctx %d, seed %d: %d parameters (%s), %d bytes (%s), %d tensors",
		o.Arch, o.Type, o.Dim, o.Layers, o.Heads, kv, o.FFN, o.Vocab, o.Ctx, o.Seed, s.Params, params,
		s.FileBytes, synth.HumanBytes(s.FileBytes), s.Tensors)
}
