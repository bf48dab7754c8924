package main

import (
	"path/filepath"
	"strings"
	"testing"
)

const stream = `{"Action":"start","Package":"example/a"}
{"Action":"run","Package":"example/a","Test":"TestPasses"}
{"Action":"output","Package":"example/a","Test":"TestPasses","Output":"=== RUN   TestPasses\n"}
{"Action":"pass","Package":"example/a","Test":"TestPasses"}
{"Action":"run","Package":"example/a","Test":"TestFails"}
{"Action":"output","Package":"example/a","Test":"TestFails","Output":"=== RUN   TestFails\n"}
{"Action":"run","Package":"example/a","Test":"TestFails/sub"}
{"Action":"output","Package":"example/a","Test":"TestFails/sub","Output":"    a_test.go:9: got 1, want 2\n"}
{"Action":"output","Package":"example/a","Test":"TestFails/sub","Output":"    --- FAIL: TestFails/sub (0.00s)\n"}
{"Action":"fail","Package":"example/a","Test":"TestFails/sub"}
{"Action":"output","Package":"example/a","Test":"TestFails","Output":"--- FAIL: TestFails (0.00s)\n"}
{"Action":"fail","Package":"example/a","Test":"TestFails"}
{"Action":"run","Package":"example/a","Test":"TestSkips"}
{"Action":"output","Package":"example/a","Test":"TestSkips","Output":"--- SKIP: TestSkips (0.00s)\n"}
{"Action":"output","Package":"example/a","Test":"TestSkips","Output":"    a_test.go:20: no browser here\n"}
{"Action":"skip","Package":"example/a","Test":"TestSkips"}
{"Action":"output","Package":"example/a","Output":"FAIL\n"}
{"Action":"output","Package":"example/a","Output":"FAIL\texample/a\t0.01s\n"}
{"Action":"fail","Package":"example/a"}
{"Action":"output","Package":"example/b","Output":"b.go:3:1: syntax error\n"}
{"Action":"fail","Package":"example/b"}
{"Action":"output","Package":"example/c","Output":"ok  \texample/c\t0.02s\n"}
{"Action":"pass","Package":"example/c"}
withpostgres: cluster stopped
`

func TestTheReportShowsWhatPlainGoTestShowsAndCountsEveryTest(t *testing.T) {
	var out strings.Builder
	c, err := report(strings.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	// Two failures in a, the subtest and its parent; b failed to build.
	if want := (counts{passed: 1, failed: 3, skipped: 1}); c != want {
		t.Fatalf("counts %v, want %v", c, want)
	}
	for _, want := range []string{"a_test.go:9: got 1, want 2", "--- FAIL: TestFails (0.00s)", "--- SKIP: TestSkips",
		"no browser here", "FAIL\texample/a\t0.01s", "b.go:3:1: syntax error", "ok  \texample/c", "withpostgres: cluster stopped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	for _, noise := range []string{"=== RUN", "TestPasses"} {
		if strings.Contains(out.String(), noise) {
			t.Errorf("report shows %q:\n%s", noise, out.String())
		}
	}
}

func TestTheTotalSumsEveryStep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tally")
	for _, c := range []counts{{10, 0, 2}, {3, 1, 0}} {
		if err := appendCounts(path, c); err != nil {
			t.Fatal(err)
		}
	}
	c, err := readCounts(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.String(), "13 passed, 1 failed, 2 skipped"; got != want {
		t.Fatalf("total %q, want %q", got, want)
	}
	if c, err := readCounts(filepath.Join(t.TempDir(), "none")); err != nil || c != (counts{}) {
		t.Fatalf("no tally: %v, %v; want zero counts", c, err)
	}
}
