package plan

import (
	"fmt"
	"strings"
)

// GPU is a card of the table: its memory as nvidia-smi reports it (memory.total).
type GPU struct {
	Name       string `json:"name"`
	Product    string `json:"product"`
	TotalBytes int64  `json:"total_bytes"`
}

const mib = 1 << 20

// gpus lists cards by the memory.total that nvidia-smi prints for them (MiB). The CUDA driver's
// own total (cuMemGetInfo, cudaDeviceProp.totalGlobalMem) is a little smaller, e.g. about 81090 MiB
// for an H100 80GB and 143156 MiB for an H200; ReserveBytes covers that difference.
var gpus = []GPU{
	{"a10-24gb", "NVIDIA A10", 23028 * mib},
	{"a100-40gb", "NVIDIA A100-SXM4-40GB", 40960 * mib},
	{"a100-80gb", "NVIDIA A100-SXM4-80GB", 81920 * mib},
	{"a40-48gb", "NVIDIA A40", 46068 * mib},
	{"h100-80gb", "NVIDIA H100 80GB HBM3", 81559 * mib},
	{"h200-141gb", "NVIDIA H200", 143771 * mib},
	{"l4-24gb", "NVIDIA L4", 23034 * mib},
	{"l40s-48gb", "NVIDIA L40S", 46068 * mib},
	{"rtx3090-24gb", "NVIDIA GeForce RTX 3090", 24576 * mib},
	{"rtx4090-24gb", "NVIDIA GeForce RTX 4090", 24564 * mib},
	{"t4-16gb", "Tesla T4", 15360 * mib},
	{"v100-32gb", "Tesla V100-SXM2-32GB", 32768 * mib},
}

// ReserveBytes is what the plan keeps back from a card's total before anything is allocated: the
// memory the driver holds outside what CUDA reports as total (about 0.5 GiB on an A100/H100), and
// a CUDA context with this engine's kernels loaded (about 0.5–1 GiB).
const ReserveBytes = 1536 * mib

// UsablePercent is the share of the rest the plan allocates; the other 5% is headroom for
// allocation rounding (cuMemAlloc hands out 2 MiB pages) and fragmentation.
const UsablePercent = 95

// GPUNames lists the table's names in order.
func GPUNames() []string {
	n := make([]string, len(gpus))
	for i, g := range gpus {
		n[i] = g.Name
	}
	return n
}

// GPUs returns a copy of the table.
func GPUs() []GPU { return append([]GPU(nil), gpus...) }

// LookupGPU returns the named card; the error lists the known ones.
func LookupGPU(name string) (GPU, error) {
	for _, g := range gpus {
		if strings.EqualFold(g.Name, name) {
			return g, nil
		}
	}
	return GPU{}, fmt.Errorf("unknown GPU %q (GPUs: %s; or give --gpu-mem)", name, strings.Join(GPUNames(), ", "))
}

// usable is the gpu_bytes term for a card's total memory.
func usable(c *calc, total int64) Term {
	t := Term{Name: "gpu_bytes", Formula: fmt.Sprintf("floor((gpu_total − reserve) × %d / 100)", UsablePercent),
		Substituted: fmt.Sprintf("(%d − %d) × %d / 100", total, int64(ReserveBytes), UsablePercent)}
	if total <= ReserveBytes {
		c.fail("plan: GPU memory of %d bytes is not more than the %d bytes reserved for the CUDA context", total, int64(ReserveBytes))
		return t
	}
	// (total − reserve) × 95 / 100 without overflow: split into whole hundreds and the rest.
	rest := total - ReserveBytes
	t.Value = rest/100*UsablePercent + rest%100*UsablePercent/100
	return t
}
