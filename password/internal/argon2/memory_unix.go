//go:build unix

package argon2

import (
	"syscall"
	"unsafe"
)

// mapBlocks maps n blocks of anonymous memory outside the Go heap. A kept
// array on the heap would count twice against the collector's goal (GOGC
// lets the heap grow to twice what is live), so two kept 19 MiB arrays would
// let a busy server's heap grow by another 38 MiB before each collection.
// The blocks hold no pointers, so the collector need not see them. ok is
// false when the mapping fails; the caller then uses the heap.
func mapBlocks(n uint32) (b []block, ok bool) {
	mem, err := syscall.Mmap(-1, 0, int(n)*blockLength*8, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, false
	}
	return unsafe.Slice((*block)(unsafe.Pointer(&mem[0])), n), true
}

// unmapBlocks returns what mapBlocks mapped.
func unmapBlocks(b []block) {
	_ = syscall.Munmap(unsafe.Slice((*byte)(unsafe.Pointer(&b[:1][0])), cap(b)*blockLength*8))
}
