//go:build !linux

package cpu

const canAdviseHuge = false

func adviseHuge(p, n uintptr) {}
