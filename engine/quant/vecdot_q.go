package quant

// Integer dot products of the 32-value weight blocks with Q8_0 or Q8_1 activation blocks, as
// ggml's generic ggml_vec_dot_q{4_0,5_0,8_0}_q8_0 and ggml_vec_dot_q{4_1,5_1}_q8_1 take them.
// Each takes nb blocks of row and act (lengths already checked) and reads the bytes in place.

// i8 reads byte b as a signed 8-bit quant.
func i8(b byte) int32 { return int32(int8(b)) }

// dotQ4_0 sums ((Σ (q−8)·qy) · dx) · dy over the blocks.
func dotQ4_0(row, act []byte, nb int) float32 {
	var sum float32
	for i := 0; i < nb; i++ {
		x := row[i*q4_0Bytes:][:q4_0Bytes]
		y := act[i*q8_0Bytes:][:q8_0Bytes]
		qs, qy := x[2:][:QK/2], y[2:][:QK]
		var s int32
		for j, b := range qs {
			s += (int32(b&0x0f)-8)*i8(qy[j]) + (int32(b>>4)-8)*i8(qy[j+QK/2])
		}
		dx, dy := F16ToF32(le.Uint16(x)), F16ToF32(le.Uint16(y))
		sum += float32(float32(float32(s)*dx) * dy)
	}
	return sum
}

// dotQ4_1 sums (dx·dy)·Σ q·qy + mx·sy over the blocks.
func dotQ4_1(row, act []byte, nb int) float32 {
	var sum float32
	for i := 0; i < nb; i++ {
		x := row[i*q4_1Bytes:][:q4_1Bytes]
		y := act[i*q8_1Bytes:][:q8_1Bytes]
		qs, qy := x[4:][:QK/2], y[4:][:QK]
		var s int32
		for j, b := range qs {
			s += int32(b&0x0f)*i8(qy[j]) + int32(b>>4)*i8(qy[j+QK/2])
		}
		sum += affine(x, y, s)
	}
	return sum
}

// affine is the block term of the Q4_1 and Q5_1 products, (dx·dy)·s + mx·sy, with dx, mx at
// x[0:4] and dy, sy at y[0:4].
func affine(x, y []byte, s int32) float32 {
	dx, mx := F16ToF32(le.Uint16(x)), F16ToF32(le.Uint16(x[2:]))
	dy, sy := F16ToF32(le.Uint16(y)), F16ToF32(le.Uint16(y[2:]))
	return float32(float32(float32(dx*dy)*float32(s)) + float32(mx*sy))
}

// dotQ5_0 sums (dx·dy)·Σ (q−16)·qy over the blocks.
func dotQ5_0(row, act []byte, nb int) float32 {
	var sum float32
	for i := 0; i < nb; i++ {
		x := row[i*q5_0Bytes:][:q5_0Bytes]
		y := act[i*q8_0Bytes:][:q8_0Bytes]
		qh := le.Uint32(x[2:])
		qs, qy := x[6:][:QK/2], y[2:][:QK]
		var s int32
		for j, b := range qs {
			v0, v1 := fives(b, qh, j)
			s += (v0-16)*i8(qy[j]) + (v1-16)*i8(qy[j+QK/2])
		}
		dx, dy := F16ToF32(le.Uint16(x)), F16ToF32(le.Uint16(y))
		sum += float32(float32(dx*dy) * float32(s))
	}
	return sum
}

// dotQ5_1 sums (dx·dy)·Σ q·qy + mx·sy over the blocks.
func dotQ5_1(row, act []byte, nb int) float32 {
	var sum float32
	for i := 0; i < nb; i++ {
		x := row[i*q5_1Bytes:][:q5_1Bytes]
		y := act[i*q8_1Bytes:][:q8_1Bytes]
		qh := le.Uint32(x[4:])
		qs, qy := x[8:][:QK/2], y[4:][:QK]
		var s int32
		for j, b := range qs {
			v0, v1 := fives(b, qh, j)
			s += v0*i8(qy[j]) + v1*i8(qy[j+QK/2])
		}
		sum += affine(x, y, s)
	}
	return sum
}

// dotQ8_0 sums Σ q·qy · (dx·dy) over the blocks.
func dotQ8_0(row, act []byte, nb int) float32 {
	var sum float32
	for i := 0; i < nb; i++ {
		x := row[i*q8_0Bytes:][:q8_0Bytes]
		y := act[i*q8_0Bytes:][:q8_0Bytes]
		qx, qy := x[2:][:QK], y[2:][:QK]
		var s int32
		for j, b := range qx {
			s += i8(b) * i8(qy[j])
		}
		dx, dy := F16ToF32(le.Uint16(x)), F16ToF32(le.Uint16(y))
		sum += float32(float32(s) * float32(dx*dy))
	}
	return sum
}
