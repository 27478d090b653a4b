package tokenizer

// bigram is a candidate merge of two adjacent symbols. For SPM, key is the negated score of the
// merged token (higher score first); for BPE it is the merge rank (lower first). Ties go to the
// leftmost pair. size is the byte length of the merged text when the candidate was made, so that
// a candidate made stale by an earlier merge of either symbol is recognised and skipped.
type bigram struct {
	key         float64
	left, right int32
	size        int32
}

func (a bigram) before(b bigram) bool {
	return a.key < b.key || (a.key == b.key && a.left < b.left)
}

// bigramHeap is a binary min-heap ordered by before.
type bigramHeap []bigram

func (h *bigramHeap) push(x bigram) {
	*h = append(*h, x)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[i].before(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *bigramHeap) pop() bigram {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		m := l
		if r := l + 1; r < len(s) && s[r].before(s[l]) {
			m = r
		}
		if !s[m].before(s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// symbols is a doubly linked list over a byte string: symbol i covers text[start[i]:start[i]+n[i]]
// and n[i] == 0 once it has been merged into its left neighbour.
type symbols struct {
	start, n, prev, next []int32
}

func (s *symbols) reset(capacity int) {
	if cap(s.start) < capacity {
		s.start = make([]int32, 0, capacity)
		s.n = make([]int32, 0, capacity)
		s.prev = make([]int32, 0, capacity)
		s.next = make([]int32, 0, capacity)
	}
	s.start, s.n, s.prev, s.next = s.start[:0], s.n[:0], s.prev[:0], s.next[:0]
}

// add appends a symbol covering [start, start+n) and links it after the previous one.
func (s *symbols) add(start, n int) {
	i := int32(len(s.start))
	s.start = append(s.start, int32(start))
	s.n = append(s.n, int32(n))
	s.prev = append(s.prev, i-1)
	s.next = append(s.next, i+1)
}

// close terminates the list (call after the last add).
func (s *symbols) close() {
	if k := len(s.next); k > 0 {
		s.next[k-1] = -1
	}
}

// merge joins symbol r into its left neighbour l.
func (s *symbols) merge(l, r int32) {
	s.n[l] += s.n[r]
	s.n[r] = 0
	s.next[l] = s.next[r]
	if nx := s.next[r]; nx >= 0 {
		s.prev[nx] = l
	}
}

// runMerges pops candidates until none is left, merging every one that is still current and
// calling candidate for the new neighbours of each merged symbol.
func (s *symbols) runMerges(h *bigramHeap, candidate func(l, r int32)) {
	for len(*h) > 0 {
		bg := h.pop()
		l, r := bg.left, bg.right
		if s.n[l] == 0 || s.n[r] == 0 || s.n[l]+s.n[r] != bg.size {
			continue
		}
		s.merge(l, r)
		candidate(s.prev[l], l)
		candidate(l, s.next[l])
	}
}
