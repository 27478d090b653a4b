// Command attnscope runs GGUF Transformer models and shows what their attention does.
//
// Usage:
//
//	attnscope inspect  --model FILE [--json]
//	attnscope tokenize --model FILE --prompt TEXT [--no-special] [--json]
//	attnscope run      --model FILE --prompt TEXT [--max-tokens N] [--temperature T] [--top-k K]
//	                   [--top-p P] [--seed S] [--topk-logits K] [--json]
//	attnscope trace    --model FILE --prompt TEXT [--json]
//	attnscope embed    --model FILE --prompt TEXT [--json]
//	attnscope render   --model FILE --prompt TEXT --view head|model|lines|kvcache -o out.png
//	attnscope plan     --model FILE|--preset NAME --seq N --gpu NAME [--json]
//	attnscope synth    --preset NAME | --arch … --dim … --type f32|f16|q8_0|q4_0 -o FILE
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

type command struct {
	name, summary string
	run           func(args []string, stdout io.Writer) error
}

// commands lists the subcommands in the order usage shows them. Each command's file adds itself
// with register from an init function.
var commands []command

func register(c command) { commands = append(commands, c) }

func init() {
	register(command{"inspect", "show a model file's architecture, sizes, quantization and metadata", cmdInspect})
	register(command{"tokenize", "split text into the model's tokens", cmdTokenize})
	register(command{"run", "generate text from a prompt (streams; --json for ids and logits)", cmdRun})
	register(command{"trace", "record every layer's and head's attention over the prompt", cmdTrace})
	register(command{"embed", "hidden states and pooled embedding of an encoder (BERT) model", cmdEmbed})
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "attnscope: run GGUF Transformer models and look at their attention")
	fmt.Fprintln(w, "\nUsage: attnscope <command> [flags]   (attnscope <command> -h for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
}

// errUsage marks errors already explained by the flag package.
var errUsage = errors.New("usage")

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// diag is where flag errors and usage go (stderr, or a test's buffer).
var diag io.Writer = os.Stderr

func runMain(args []string, stdout, stderr io.Writer) int {
	diag = stderr
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			if err := c.run(args[1:], stdout); err != nil {
				if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
					return 2
				}
				fmt.Fprintf(stderr, "attnscope %s: %v\n", c.name, err)
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "attnscope: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// flags is a FlagSet that reports errors through its own output and errUsage.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("attnscope "+name, flag.ContinueOnError)
	fs.SetOutput(diag)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), strings.Join(fs.Args(), " "))
		return errUsage
	}
	return nil
}

func need(fs *flag.FlagSet, name, value string) error {
	if value == "" {
		fmt.Fprintf(fs.Output(), "%s: --%s is required\n", fs.Name(), name)
		fs.Usage()
		return errUsage
	}
	return nil
}
