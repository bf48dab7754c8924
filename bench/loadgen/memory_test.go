package loadgen

import (
	"os"
	"syscall"
	"testing"
)

// A peak measured for one run must not carry the peak of an earlier one:
// after 64 MiB are touched and given back, the reset brings the mark down to
// what the process holds now.
func TestResetPeakRSSForgetsAnEarlierPeak(t *testing.T) {
	const size = 64 << 20
	pid := os.Getpid()
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < size; i += os.Getpagesize() {
		mem[i] = 1
	}
	if err := syscall.Munmap(mem); err != nil {
		t.Fatal(err)
	}
	before, err := PeakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if before < size {
		t.Fatalf("peak %.1f MiB, below the 64 MiB mapping it had", float64(before)/(1<<20))
	}
	if err := ResetPeakRSS(pid); err != nil {
		t.Fatal(err)
	}
	after, err := PeakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if after > before-size/2 {
		t.Errorf("peak after the reset %.1f MiB, before %.1f MiB: the 64 MiB given back are still counted",
			float64(after)/(1<<20), float64(before)/(1<<20))
	}
}

func TestRSSSplitsAnonymousAndFilePages(t *testing.T) {
	total, anon, file, err := RSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if anon <= 0 || file <= 0 || anon+file > total+total/100 {
		t.Errorf("RSS %d, anonymous %d, file %d: the parts must be positive and add up to at most the whole", total, anon, file)
	}
}

func TestResetPeakRSSOfNoProcessFails(t *testing.T) {
	if err := ResetPeakRSS(-1); err == nil {
		t.Error("resetting the peak of pid -1 succeeded")
	}
}
