package cpu

import "syscall"

const canAdviseHuge = true

// madvHugepage is MADV_HUGEPAGE (the syscall package names the advice values only on some
// architectures).
const madvHugepage = 14

// adviseHuge asks Linux to back [p, p+n) with transparent huge pages. The advice changes no
// byte; where the kernel refuses it (huge pages disabled: EINVAL) nothing else changes either.
func adviseHuge(p, n uintptr) {
	if n == 0 {
		return
	}
	syscall.Syscall(syscall.SYS_MADVISE, p, n, madvHugepage)
}
