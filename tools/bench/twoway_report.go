package main

import (
	"fmt"
	"io"
)

// twowayRows are the two-way lines of the table. The native column says
// why it is empty; the goal column compares with bgsync's one-way drain of
// the same invocation.
func (r *report) twowayRows(oneway *engineResult) [][]string {
	tw := r.twoway
	if tw == nil || !tw.ran {
		return nil
	}
	o := r.o
	const noNative = "n/a (PG15: no origin filter)"
	var rows [][]string
	for _, ph := range []struct {
		name string
		d    twowayDrain
		one  *phaseResult
	}{{"inserts", tw.inserts, &oneway.inserts}, {"updates", tw.updates, &oneway.updates}} {
		rate := ph.d.rate(o.twowayRows)
		cell := "-"
		switch {
		case ph.d.ran && rate > 0:
			cell = thousands(rate)
		case ph.d.ran:
			cell = "failed"
		}
		goal := ""
		if one := ph.one.rate(o.rows); one > 0 && rate > 0 {
			goal = fmt.Sprintf("one-way %s (%.2fx)", thousands(one), rate/one)
		}
		rows = append(rows, []string{fmt.Sprintf("two-way %s rows/s, both ways (2x%s rows, disjoint keys, backlog)", ph.name, count(o.twowayRows)),
			noNative, cell, "", goal})
	}
	s := tw.storm
	if !s.ran {
		return rows
	}
	label := fmt.Sprintf("storm %.0f s, %d+%d txn", s.seconds, s.txns[0], s.txns[1])
	for i, dir := range []string{"b→g", "g→b"} {
		rate := "-"
		if s.applied[i] > 0 {
			rate = fmt.Sprintf("%d / %d = %.2f%%", s.conflicts[i], s.applied[i], 100*float64(s.conflicts[i])/float64(s.applied[i]))
		}
		rows = append(rows, []string{fmt.Sprintf("%s conflicts / txns applied (%s)", dir, label), noNative, rate, "", "> 0 (the storm collides)"})
		own := "-"
		if p := s.own[i]; p != nil {
			own = fmt.Sprintf("%d / %d", p.LagP50Ms, p.LagP99Ms)
		}
		rows = append(rows, []string{fmt.Sprintf("%s lag p50 / p99 ms in the storm: probe; bgsync's heartbeats", dir), noNative,
			lagCell(s.probe[i]) + "; " + own, "", ""})
	}
	rows = append(rows, []string{"storm keys different once drained", noNative, fmt.Sprint(s.differ), "", "0" + verdict(s.differ == 0)})
	return rows
}

// twowayDetails prints the per-direction drain times and the storm's
// figures under the table.
func (r *report) twowayDetails(w io.Writer) {
	tw := r.twoway
	if tw == nil || !tw.ran {
		return
	}
	for _, ph := range []struct {
		name string
		d    twowayDrain
	}{{"inserts", tw.inserts}, {"updates", tw.updates}} {
		if !ph.d.ran {
			continue
		}
		if ph.d.err != nil {
			fmt.Fprintf(w, "  two-way %-7s FAILED: %v\n", ph.name, ph.d.err)
			continue
		}
		fmt.Fprintf(w, "  two-way %-7s %d rows each way: blue→green caught up in %.2f s (%s rows/s), green→blue in %.2f s (%s rows/s)\n",
			ph.name, r.o.twowayRows, ph.d.done[0].Seconds(), thousands(float64(r.o.twowayRows)/ph.d.done[0].Seconds()),
			ph.d.done[1].Seconds(), thousands(float64(r.o.twowayRows)/ph.d.done[1].Seconds()))
	}
	if s := tw.storm; s.ran {
		fmt.Fprintf(w, "  two-way storm   %d writers per side at 60 txn/s on keys 1..%d for %.0f s: %d transactions on blue, %d on green; drained and compared in %.1f s: %d keys differ\n",
			s.workersPer, s.stormKeys, s.seconds, s.txns[0], s.txns[1], s.settle.Seconds(), s.differ)
		for i, dir := range twowayDirs {
			p := s.probe[i]
			fmt.Fprintf(w, "                  %s: %d conflicts logged, %d txns applied; %d probes: p50 %s ms, p99 %s ms, max %s ms\n",
				dir, s.conflicts[i], s.applied[i], p.probes, ms(p.p50), ms(p.p99), ms(p.max))
		}
	}
	if tw.rssKiB > 0 {
		fmt.Fprintf(w, "  two-way bgsync peak RSS (VmHWM, largest of its runs): %.0f MiB\n", float64(tw.rssKiB)/1024)
	}
}
