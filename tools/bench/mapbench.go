package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// mapBenchArgs is the Go benchmark of the transform step alone (ns per
// row of transform.Mapping.Map), run from the repository root, the
// working directory of scripts/bench.sh.
var mapBenchArgs = []string{"test", "-run", "^$", "-bench", "BenchmarkMap", "-benchtime", "200000x", "./transform"}

// mapBenchCases are the sub-benchmarks the table shows, in its order.
var mapBenchCases = []string{"rename", "split+json"}

type mapBenchCase struct {
	nsPerOp, bytesPerOp, allocsPerOp float64
}

type mapBenchResult struct {
	ran   bool
	cases map[string]mapBenchCase
	took  time.Duration
	err   error
}

// BenchmarkMap/split+json-2   200000   4321 ns/op   1234 B/op   56 allocs/op
var benchLine = regexp.MustCompile(`^BenchmarkMap/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) B/op)?(?:\s+([\d.]+) allocs/op)?`)

func runMapBench(ctx context.Context) mapBenchResult {
	r := mapBenchResult{ran: true, cases: map[string]mapBenchCase{}}
	logf("transforms: go %s", strings.Join(mapBenchArgs, " "))
	start := time.Now()
	out, err := exec.CommandContext(ctx, "go", mapBenchArgs...).CombinedOutput()
	r.took = time.Since(start)
	if err != nil {
		r.err = fmt.Errorf("go %s: %v\n%s", strings.Join(mapBenchArgs, " "), err, strings.TrimSpace(string(out)))
		return r
	}
	r.cases = parseMapBench(string(out))
	for _, c := range mapBenchCases {
		if _, ok := r.cases[c]; !ok {
			r.err = fmt.Errorf("no BenchmarkMap/%s line in the output of go %s:\n%s", c, strings.Join(mapBenchArgs, " "), strings.TrimSpace(string(out)))
			return r
		}
	}
	logf("transforms: BenchmarkMap rename %.0f ns/op, split+json %.0f ns/op", r.cases["rename"].nsPerOp, r.cases["split+json"].nsPerOp)
	return r
}

func parseMapBench(out string) map[string]mapBenchCase {
	cases := map[string]mapBenchCase{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var c mapBenchCase
		c.nsPerOp, _ = strconv.ParseFloat(m[2], 64)
		c.bytesPerOp, _ = strconv.ParseFloat(m[3], 64)
		c.allocsPerOp, _ = strconv.ParseFloat(m[4], 64)
		cases[m[1]] = c
	}
	return cases
}
