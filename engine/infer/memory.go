package infer

import (
	"os"
	"runtime/debug"

	"github.com/attnscope/attnscope/engine/kvcache"
)

// Headroom is what a run may use besides the weights and the KV cache; the garbage collector is
// held to HeapRoom of it, leaving the rest to the program's code and the runtime.
const (
	Headroom = 64 << 20
	HeapRoom = 40 << 20
)

// HeapLimit is the soft memory limit of a run of l whose KV cache holds kvTokens positions of
// type kv: the weights, the cache and HeapRoom. Without one the collector lets the heap grow to twice what is
// live before collecting, and the garbage of a long prompt (the KV cache's earlier, smaller
// arrays, the scores of each chunk) would take as much room as the model itself.
func (l *Loaded) HeapLimit(kvTokens int, kv kvcache.Type) int64 {
	perToken := l.Model.Config().KVBytesPerToken() / 4 * int64(kv.Size())
	return l.Model.WeightBytes() + int64(kvTokens)*perToken + HeapRoom
}

// LimitHeap makes limit the garbage collector's soft memory limit unless GOMEMLIMIT sets one,
// and returns the limit in force before (to put back).
func LimitHeap(limit int64) (previous int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	return debug.SetMemoryLimit(limit)
}
