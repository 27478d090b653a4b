package main

import (
	"fmt"
	"os"

	"github.com/attnscope/attnscope/engine/gguf"
)

func main() {
	for _, n := range os.Args[1:] {
		f, err := gguf.Open(n)
		if err != nil {
			panic(err)
		}
		fmt.Println(n)
		for _, t := range f.Tensors {
			fmt.Println("  ", t.Name, t.Type, t.Dims)
		}
	}
}
