package password

import (
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
)

// The embedded list must be exactly zxcvbn's common passwords as the policy
// uses them: folded, within the length bounds, sorted, each once.
func TestCommonListIsZxcvbnsPasswordsFoldedAndSorted(t *testing.T) {
	var want []string
	for _, pw := range frequency.FrequencyLists["passwords"] {
		pw = fold(pw)
		if n := utf8.RuneCountInString(pw); n >= MinLength && n <= MaxLength {
			want = append(want, pw)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	got := NewPolicy().common
	if !slices.Equal(got, want) {
		t.Fatalf("common.txt has %d passwords, zxcvbn's folded list %d; regenerate common.txt from it", len(got), len(want))
	}
	if !slices.IsSorted(got) {
		t.Error("the list is not sorted: the binary search would miss passwords")
	}
}
