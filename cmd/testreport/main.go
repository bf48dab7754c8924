// Command testreport turns `go test -json` into what a person reads, and
// keeps the count of what ran, so that the test command can end with one
// line for everything: Go tests and their subtests, which include the Node
// harnesses and the browser journeys the Go tests drive, and the fuzz runs.
//
//	go test -json ./... | testreport -tally FILE   shows failures, skips and package results; adds the counts to FILE
//	testreport -add FILE PASSED FAILED SKIPPED     adds counts kept by another step (the fuzz runs)
//	testreport -total FILE                         prints "N passed, N failed, N skipped"
//
// It exits 1 when a test or a package failed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() {
	tally := flag.String("tally", "", "add the counts of the `go test -json` stream on stdin to this file")
	add := flag.String("add", "", "add the counts given as arguments (passed failed skipped) to this file")
	total := flag.String("total", "", "print the counts summed in this file")
	flag.Parse()
	switch {
	case *tally != "":
		c, err := report(os.Stdin, os.Stdout)
		if err == nil {
			err = appendCounts(*tally, c)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
		if c.failed > 0 {
			os.Exit(1)
		}
	case *add != "":
		var c counts
		var err error
		args := flag.Args()
		if len(args) != 3 {
			err = fmt.Errorf("-add wants three numbers: passed failed skipped")
		}
		for i, p := range []*int{&c.passed, &c.failed, &c.skipped} {
			if err == nil {
				*p, err = strconv.Atoi(args[i])
			}
		}
		if err == nil {
			err = appendCounts(*add, c)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
	case *total != "":
		c, err := readCounts(*total)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
		fmt.Println(c)
	default:
		flag.Usage()
		os.Exit(2)
	}
}

type counts struct{ passed, failed, skipped int }

func (c counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", c.passed, c.failed, c.skipped)
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// report reads the stream, writes what plain `go test` would show plus the
// skipped tests with their reasons, and counts every test and subtest. A
// package that fails without a failing test (it did not build, or its
// TestMain failed) counts as one failure.
func report(in io.Reader, out io.Writer) (counts, error) {
	var c counts
	type key struct{ pkg, test string }
	buffered := map[key][]string{}
	failedTests := map[string]int{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
			// Not an event: what the command around go test printed.
			fmt.Fprintf(out, "%s\n", line)
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "output":
			if e.Test != "" {
				buffered[k] = append(buffered[k], e.Output)
				continue
			}
			if shownPackageLine(e.Output) {
				io.WriteString(out, e.Output)
			}
		case "pass":
			if e.Test != "" {
				c.passed++
			}
			delete(buffered, k)
		case "skip":
			if e.Test != "" {
				c.skipped++
				// The reason is in the test's own output, after its
				// "--- SKIP" line.
				for _, o := range buffered[k] {
					if !strings.HasPrefix(strings.TrimSpace(o), "=== ") {
						io.WriteString(out, o)
					}
				}
			}
			delete(buffered, k)
		case "fail":
			if e.Test != "" {
				c.failed++
				failedTests[e.Package]++
				for _, o := range buffered[k] {
					if !strings.HasPrefix(strings.TrimSpace(o), "=== ") {
						io.WriteString(out, o)
					}
				}
				delete(buffered, k)
				continue
			}
			if failedTests[e.Package] == 0 {
				c.failed++
			}
		}
	}
	return c, sc.Err()
}

// shownPackageLine reports whether a package's own output line is one plain
// `go test` shows: its result line, and anything that is not the bare
// PASS or FAIL verdict or a test's start.
func shownPackageLine(s string) bool {
	t := strings.TrimSpace(s)
	return t != "PASS" && t != "FAIL" && !strings.HasPrefix(t, "=== ") && t != ""
}

func appendCounts(path string, c counts) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%d %d %d\n", c.passed, c.failed, c.skipped); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readCounts(path string) (counts, error) {
	var c counts
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var p, f, s int
		if _, err := fmt.Sscanf(line, "%d %d %d", &p, &f, &s); err != nil {
			return c, fmt.Errorf("%s: line %q: %w", path, line, err)
		}
		c.passed, c.failed, c.skipped = c.passed+p, c.failed+f, c.skipped+s
	}
	return c, nil
}
