package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/attnscope/attnscope/engine/backend"
	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/engine/backend/cuda"
)

// backendLog is where `--backend auto` says which backend it chose and why.
var backendLog io.Writer = os.Stderr

// selectBackend opens the backend a --backend flag names: cpu, cuda (fails with the reason when
// no GPU can be used) or auto (CUDA when a driver and a device are present, else the CPU; it says
// which on backendLog). The ggml compute mode exists only on the CPU.
func selectBackend(name string, threads int, compute cpu.Compute) (backend.Backend, error) {
	newCPU := func() backend.Backend { return cpu.NewWithOptions(cpu.Options{Threads: threads, Compute: compute}) }
	switch name {
	case "cpu":
		return newCPU(), nil
	case "cuda":
		if compute == cpu.ComputeGGML {
			return nil, fmt.Errorf("--compute ggml reproduces llama.cpp's CPU arithmetic and runs only with --backend cpu")
		}
		b, err := cuda.Open(0)
		if err != nil {
			return nil, fmt.Errorf("--backend cuda: %w", err)
		}
		return b, nil
	case "auto", "":
		if compute == cpu.ComputeGGML {
			return newCPU(), nil
		}
		b, err := cuda.Open(0)
		if err != nil {
			why := err.Error()
			if errors.Is(err, backend.ErrUnavailable) {
				why = "CUDA " + why
			}
			fmt.Fprintf(backendLog, "backend: cpu (%s)\n", why)
			return newCPU(), nil
		}
		info := b.Info()
		fmt.Fprintf(backendLog, "backend: cuda (%s, compute capability %d.%d, %.1f GiB)\n", info.Name, info.Major, info.Minor,
			float64(info.TotalBytes)/(1<<30))
		return b, nil
	}
	return nil, fmt.Errorf("unknown backend %q (auto, cpu, cuda)", name)
}
