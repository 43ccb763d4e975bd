package main

import (
	"fmt"
	"io"
	"strings"
)

// transformRows are the transforms lines of the table: the transformed
// drain in the bgsync column, the same drain without transforms in the
// native column, and the ns/row of the transform step alone.
func (r *report) transformRows() [][]string {
	x := r.transforms
	if x == nil || !x.ran {
		return nil
	}
	label := fmt.Sprintf("transforms b→g inserts rows/s (%s rows, %s/txn; customers→clients: rename, split, text→jsonb; vs same shape untransformed)",
		count(x.rows), count(r.o.txn))
	off, on := x.off.rate(x.rows), x.on.rate(x.rows)
	row := []string{label, rateCell(&x.off, off), rateCell(&x.on, on), "", "≥ 80% of the untransformed rate"}
	if row[1] != "-" {
		row[1] = "no transforms " + row[1]
	}
	if x.checkErr != nil {
		row[2] = "wrong result"
	}
	if off > 0 && on > 0 && x.checkErr == nil {
		row[3] = fmt.Sprintf("%.2f", on/off)
		row[4] += verdict(on/off >= 0.8)
	}
	rows := [][]string{row}
	if mb := x.mapBench; mb.ran {
		cell := "failed"
		if mb.err == nil {
			var v []string
			for _, c := range mapBenchCases {
				v = append(v, thousands(mb.cases[c].nsPerOp))
			}
			cell = strings.Join(v, " / ")
		}
		rows = append(rows, []string{"transform step ns/row, " + strings.Join(mapBenchCases, " / ") + " (go test -bench BenchmarkMap -benchtime 200000x ./transform)",
			"", cell, "", ""})
	}
	return rows
}

// transformDetails prints the two drains, the check of the transformed
// one, and what the rates and BenchmarkMap say per row.
func (r *report) transformDetails(w io.Writer) {
	x := r.transforms
	if x == nil || !x.ran {
		return
	}
	for _, run := range []struct {
		name string
		p    *phaseResult
	}{{"off", &x.off}, {"on", &x.on}} {
		p := run.p
		if !p.ran {
			continue
		}
		if p.drained.done <= 0 {
			fmt.Fprintf(w, "  transforms %-3s FAILED: %v\n", run.name, p.err)
			continue
		}
		fmt.Fprintf(w, "  transforms %-3s load on blue %.1f s; drain %.2f s, first change after %.2f s; bgsync CPU %.1f s (%.1f µs/row), VmHWM %.0f MiB\n",
			run.name, p.load.Seconds(), p.drained.done.Seconds(), p.drained.first.Seconds(), p.procCPU, 1e6*p.procCPU/float64(x.rows), float64(p.rssKiB)/1024)
		if c := p.cpu; c.wall > 0 && c.perCluster {
			fmt.Fprintf(w, "                 CPU s during the drain: bgsync %.1f, blue PG %.1f, green PG %.1f, whole machine %.1f of %.1f available\n",
				c.engine, c.blue, c.green, c.machine, c.machineAvail)
		}
		if p.drained.odd != "" {
			fmt.Fprintf(w, "                 ODD: %s\n", p.drained.odd)
		}
	}
	if x.checked != "" {
		fmt.Fprintf(w, "  transforms on  checked: %s\n", x.checked)
	}
	if x.off.procCPU > 0 && x.on.procCPU > 0 {
		fmt.Fprintf(w, "  transforms     bgsync CPU per row, on − off: %.0f ns", 1e9*(x.on.procCPU-x.off.procCPU)/float64(x.rows))
		if mb := x.mapBench; mb.ran && mb.err == nil {
			fmt.Fprintf(w, " (BenchmarkMap split+json: %.0f ns/row)", mb.cases["split+json"].nsPerOp)
		}
		fmt.Fprintln(w)
	}
	if off := x.off.rate(x.rows); off > 0 {
		fmt.Fprintf(w, "  transforms     at the untransformed %s rows/s, the 80%% goal leaves %.0f ns of added wall time per row\n",
			thousands(off), 1e9*(1/(0.8*off)-1/off))
	}
	if mb := x.mapBench; mb.ran && mb.err == nil {
		fmt.Fprintf(w, "  BenchmarkMap   %.1f s with compiling;", mb.took.Seconds())
		for _, c := range mapBenchCases {
			v := mb.cases[c]
			fmt.Fprintf(w, " %s %.0f ns/op %.0f B/op %.0f allocs/op;", c, v.nsPerOp, v.bytesPerOp, v.allocsPerOp)
		}
		fmt.Fprintln(w)
	}
}
