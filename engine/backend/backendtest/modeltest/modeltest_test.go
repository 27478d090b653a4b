package modeltest

import (
	"testing"

	"github.com/attnscope/attnscope/engine/backend/backendtest"
	"github.com/attnscope/attnscope/engine/backend/cpu"
	"github.com/attnscope/attnscope/internal/shareddata"
)

// The device code path of the models (what a GPU runs) evaluated with host buffers and plain-Go
// ops gives the CPU path's results: this checks the model side of the device path on any machine.
func TestHostDeviceMatchesCPU(t *testing.T) {
	for _, name := range []string{"stories260K.gguf", "stories260K-q8_0.gguf", "llama-2-tiny-random.gguf", "tiny-llama-kq-q4_k.gguf"} {
		t.Run(name, func(t *testing.T) {
			path := shareddata.Model(t, name)
			r := Compare(t, path, backendtest.HostDevice(cpu.New(1)), "Once upon a time, there was a little girl", 12, 1e-4)
			t.Logf("%s: %v", name, r)
		})
	}
}
