package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// report is everything printed at the end.
type report struct {
	o                     options
	native, bgsync        *engineResult
	twoway                *twowayResult
	transforms            *transformResult
	mariadb               *myResult
	snapshot              *snapResult
	verifyRes             verifyResult
	loadBefore, loadAfter string
	total                 time.Duration
	problems              []string
}

func count(n int) string {
	switch {
	case n >= 1000000 && n%1000000 == 0:
		return strconv.Itoa(n/1000000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// thousands formats 1234567 as 1,234,567.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

func (r *report) print(w io.Writer) {
	o := r.o
	nat, bg := r.native, r.bgsync
	if nat == nil {
		nat = &engineResult{}
	}
	if bg == nil {
		bg = &engineResult{}
	}
	shape := fmt.Sprintf("%s rows, %s/txn", count(o.rows), count(o.txn))
	live := fmt.Sprintf("live %s rows/s", count(o.liveRate))
	rows := [][]string{{"measure", "native PG", "bgsync", "bgsync/native", "goal"}}
	for _, ph := range []struct {
		name   string
		nat, b *phaseResult
	}{{"inserts", &nat.inserts, &bg.inserts}, {"updates", &nat.updates, &bg.updates}} {
		n, b := ph.nat.rate(o.rows), ph.b.rate(o.rows)
		row := []string{ph.name + " rows/s (" + shape + ", backlog)", rateCell(ph.nat, n), rateCell(ph.b, b), "", "ratio ≥ 1.0"}
		if n > 0 && b > 0 {
			row[3] = fmt.Sprintf("%.2f", b/n)
			row[4] += verdict(b/n >= 1.0)
		}
		rows = append(rows, row)
	}
	rows = append(rows, []string{"load on blue s, inserts / updates (not timed in rows/s)", loadCell(nat), loadCell(bg), "", ""})
	peak := max(bg.inserts.rssKiB, bg.updates.rssKiB, bg.liveRSSKiB)
	rss := []string{"bgsync peak RSS (MiB, VmHWM)", "", "", "", "< 256 MiB"}
	if peak > 0 {
		rss[2] = fmt.Sprintf("%.0f", float64(peak)/1024)
		rss[4] += verdict(float64(peak)/1024 < 256)
	}
	rows = append(rows, rss)
	cpu := []string{"bgsync CPU s (inserts+updates)", "", "", "", ""}
	if bg.inserts.ran {
		cpu[2] = fmt.Sprintf("%.1f", bg.inserts.procCPU+bg.updates.procCPU)
	}
	rows = append(rows, cpu)
	own := []string{"heartbeat lag p50 / p99 ms, bgsync's own (" + live + ")", "", "", "", "p99 < 100 ms"}
	if bg.progress != nil {
		own[2] = fmt.Sprintf("%d / %d", bg.progress.LagP50Ms, bg.progress.LagP99Ms)
		own[4] += verdict(bg.progress.LagP99Ms < 100)
	}
	rows = append(rows, own)
	probe := []string{"lag p50 / p99 ms, independent probe (" + live + ")", lagCell(nat.live), lagCell(bg.live), "", ""}
	rows = append(rows, probe)
	rows = append(rows, r.transformRows()...)
	rows = append(rows, r.twowayRows(bg)...)
	rows = append(rows, r.verifyRows()...)
	if o.only != "" {
		rows = rows[:1]
	}
	rows = append(rows, r.mariadbRows(bg)...)
	rows = append(rows, r.snapshotRows()...)
	printTable(w, rows)

	switch o.only {
	case "mariadb":
		fmt.Fprintf(w, "\nDetails (rows/s = %d / seconds; drain = start of bgsync run → green caught up, polled every 100 ms)\n", o.myRows)
	case "snapshot":
		fmt.Fprintf(w, "\nDetails (rows/s = rows / seconds from the copy's start to its exit)\n")
	default:
		fmt.Fprintf(w, "\nDetails (rows/s = %d / drain seconds; drain = start of the sync → green caught up, polled every 100 ms)\n", o.rows)
	}
	for _, eng := range []struct {
		name string
		r    *engineResult
	}{{"native", nat}, {"bgsync", bg}} {
		for _, ph := range []struct {
			name string
			p    *phaseResult
		}{{"inserts", &eng.r.inserts}, {"updates", &eng.r.updates}} {
			p := ph.p
			if !p.ran {
				continue
			}
			fmt.Fprintf(w, "  %-6s %-7s load on blue %5.1f s (%s rows/s)", eng.name, ph.name, p.load.Seconds(), thousands(float64(o.rows)/p.load.Seconds()))
			if p.drained.done > 0 {
				steady := ""
				if d := p.drained.done - p.drained.first; d > 0 {
					steady = fmt.Sprintf(", %s rows/s after the first change", thousands(float64(o.rows)/d.Seconds()))
				}
				fmt.Fprintf(w, "; drain %.2f s, first change after %.2f s%s\n", p.drained.done.Seconds(), p.drained.first.Seconds(), steady)
			} else {
				fmt.Fprintf(w, "; drain FAILED: %v\n", p.err)
			}
			c := p.cpu
			if c.wall > 0 {
				fmt.Fprintf(w, "         CPU s during the drain:")
				if eng.name == "bgsync" {
					fmt.Fprintf(w, " bgsync %.1f,", c.engine)
				}
				if c.perCluster {
					fmt.Fprintf(w, " blue PG %.1f, green PG %.1f,", c.blue, c.green)
				}
				fmt.Fprintf(w, " whole machine %.1f of %.1f available", c.machine, c.machineAvail)
				if other := c.machine - c.engine - c.blue - c.green; c.perCluster && other > 0.1*c.machineAvail {
					fmt.Fprintf(w, " (%.1f s by other processes)", other)
				}
				fmt.Fprintln(w)
			}
			if eng.name == "bgsync" {
				fmt.Fprintf(w, "         bgsync process: VmHWM %.0f MiB, CPU %.1f s, SIGTERM → exit %.2f s\n", float64(p.rssKiB)/1024, p.procCPU, p.stop.Seconds())
			}
			if p.drained.odd != "" {
				fmt.Fprintf(w, "         ODD: %s\n", p.drained.odd)
			}
		}
		if l := eng.r.live; l.ran {
			fmt.Fprintf(w, "  %-6s live    %.0f s of %s rows/s achieved (%d-row updates), %d probes every %s: p50 %s ms, p99 %s ms, max %s ms (poll resolution 10 ms)\n",
				eng.name, l.seconds, thousands(l.rowsPerSec), o.liveTxnRows, l.probes, o.probeEvery, ms(l.p50), ms(l.p99), ms(l.max))
		}
	}
	if p := bg.progress; p != nil {
		fmt.Fprintf(w, "  bgsync live process: VmHWM %.0f MiB, SIGTERM → exit %.2f s\n", float64(bg.liveRSSKiB)/1024, bg.liveStop.Seconds())
		fmt.Fprintf(w, "  bgsync last progress line of the live phase: state=%s rows_applied=%d txns_applied=%d lag_ms=%d lag_p50_ms=%d lag_p99_ms=%d restarts=%d checkpoint=%s\n",
			p.State, p.RowsApplied, p.TxnsApplied, p.LagMs, p.LagP50Ms, p.LagP99Ms, p.Restarts, p.Checkpoint)
	}
	var other, avail float64
	for _, p := range []*phaseResult{&nat.inserts, &nat.updates, &bg.inserts, &bg.updates} {
		if p.cpu.perCluster {
			other += p.cpu.machine - p.cpu.engine - p.cpu.blue - p.cpu.green
			avail += p.cpu.machineAvail
		}
	}
	if avail > 0 && other > 0.1*avail {
		fmt.Fprintf(w, "  WARNING: processes other than the engines and the two clusters used %.0f%% of the machine's CPU during the drains: all rates are depressed and noisy\n", 100*other/avail)
	}
	fmt.Fprintf(w, "  machine load average before %s, after %s; whole bench %.0f s; bgsync logs in %s/logs\n",
		r.loadBefore, r.loadAfter, r.total.Seconds(), o.workDir)
	r.transformDetails(w)
	r.twowayDetails(w)
	r.mariadbDetails(w)
	r.snapshotDetails(w)
	if v := r.verifyRes; v.ran && v.err == nil {
		fmt.Fprintf(w, "  verify          %d rows read (2 tables x %d rows x 2 sides): raw COPY %.1f s, bgsync verify %.1f s (%s), peak RSS %.0f MiB\n",
			v.rows, r.o.verifyRows, v.raw.Seconds(), v.verify.Seconds(), v.status, float64(v.rssKiB)/1024)
	}
	var problems []string
	if r.twoway != nil {
		problems = append(problems, r.twoway.problems...)
	}
	if r.transforms != nil {
		problems = append(problems, r.transforms.problems...)
	}
	if r.mariadb != nil {
		problems = append(problems, r.mariadb.problems...)
	}
	problems = append(problems, r.snapshotProblems()...)
	problems = append(problems, nat.problems...)
	problems = append(problems, bg.problems...)
	problems = append(problems, r.problems...)
	if len(problems) > 0 {
		fmt.Fprintln(w, "\nProblems:")
		for _, p := range problems {
			fmt.Fprintln(w, "  - "+p)
		}
	}
}

func verdict(ok bool) string {
	if ok {
		return ": met"
	}
	return ": NOT met"
}

func rateCell(p *phaseResult, v float64) string {
	switch {
	case !p.ran:
		return "-"
	case p.err != nil || v == 0:
		return "failed"
	}
	return thousands(v)
}

func lagCell(l liveResult) string {
	switch {
	case !l.ran:
		return "-"
	case l.probes == 0:
		return "failed"
	}
	return ms(l.p50) + " / " + ms(l.p99)
}

func printTable(w io.Writer, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i, c := range r {
			pad := widths[i] - len([]rune(c))
			if i > 0 && i < 4 && c != "" && r[0] != "measure" { // figures right-aligned
				fmt.Fprintf(&b, "| %s%s ", strings.Repeat(" ", pad), c)
			} else {
				fmt.Fprintf(&b, "| %s%s ", c, strings.Repeat(" ", pad))
			}
		}
		fmt.Fprintln(w, b.String()+"|")
	}
	line(rows[0])
	sep := make([]string, len(widths))
	for i, n := range widths {
		sep[i] = strings.Repeat("-", n)
	}
	fmt.Fprintln(w, "|-"+strings.Join(sep, "-|-")+"-|")
	for _, r := range rows[1:] {
		line(r)
	}
}

func loadCell(r *engineResult) string {
	if !r.inserts.ran || r.inserts.load == 0 {
		return ""
	}
	c := fmt.Sprintf("%.1f", r.inserts.load.Seconds())
	if r.updates.ran && r.updates.load > 0 {
		c += fmt.Sprintf(" / %.1f", r.updates.load.Seconds())
	}
	return c
}
