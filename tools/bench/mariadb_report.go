package main

import (
	"fmt"
	"io"
)

// mariadbRows are the MariaDB lines of the table: capture/mysql's decode
// rate against mariadb-binlog's on the same binlog range, and the two
// end-to-end drains against bgsync's PostgreSQL → PostgreSQL inserts drain
// of the same run (same row values), when it ran (the ratio only when
// -rows equals -my-rows).
func (r *report) mariadbRows(bg *engineResult) [][]string {
	m := r.mariadb
	if m == nil || !m.ran {
		return nil
	}
	shape := fmt.Sprintf("%s rows, %s/txn", count(m.rows), count(r.o.txn))
	capture, tool := m.capture.rate(), m.tool.rate()
	row := []string{"MariaDB capture rows/s (" + shape + ", decoding the load's binlog range; vs mariadb-binlog -R --base64-output=decode-rows --verbose, same range)",
		decodeCell(&m.tool, tool, "mariadb-binlog "), decodeCell(&m.capture, capture, ""), "", ""}
	if capture > 0 && tool > 0 {
		row[3] = fmt.Sprintf("%.2f", capture/tool)
	}
	rows := [][]string{row}

	ref := 0.0
	if bg != nil {
		ref = bg.inserts.rate(r.o.rows)
	}
	for _, d := range []struct {
		label string
		p     *phaseResult
		check string
	}{{"MariaDB→MariaDB", &m.mm, m.mmCheck}, {"MariaDB→PostgreSQL", &m.mp, m.mpCheck}} {
		v := d.p.rate(m.rows)
		row := []string{"bgsync " + d.label + " inserts rows/s (" + shape + ", backlog; vs bgsync PG→PG inserts above)", "", rateCell(d.p, v), "", ""}
		if d.p.ran && d.p.err != nil && d.p.drained.done > 0 {
			row[2] = "wrong result"
		}
		switch {
		case ref > 0 && r.o.rows == m.rows:
			row[1] = "PG→PG " + thousands(ref)
			if v > 0 && d.check != "" {
				row[3] = fmt.Sprintf("%.2f", v/ref)
			}
		case ref > 0: // a drain of another size: shown, not divided
			row[1] = "PG→PG " + count(r.o.rows) + " rows " + thousands(ref)
		}
		rows = append(rows, row)
	}
	rss := []string{"bgsync peak RSS MiB (VmHWM), MariaDB→MariaDB / →PostgreSQL", "", "", "", "< 256 MiB"}
	cpu := []string{"bgsync CPU s, MariaDB→MariaDB / →PostgreSQL drains", "", "", "", ""}
	if m.mm.ran || m.mp.ran {
		peak := max(m.mm.rssKiB, m.mp.rssKiB)
		rss[2] = fmt.Sprintf("%s / %s", mibCell(&m.mm), mibCell(&m.mp))
		if peak > 0 {
			rss[4] += verdict(float64(peak)/1024 < 256)
		}
		cpu[2] = fmt.Sprintf("%s / %s", cpuCell(&m.mm), cpuCell(&m.mp))
		rows = append(rows, rss, cpu)
	}
	return rows
}

func decodeCell(d *decodeResult, v float64, prefix string) string {
	switch {
	case !d.ran:
		return "-"
	case d.err != nil || v == 0:
		return prefix + "failed"
	}
	return prefix + thousands(v)
}

func mibCell(p *phaseResult) string {
	if !p.ran || p.rssKiB == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(p.rssKiB)/1024)
}

func cpuCell(p *phaseResult) string {
	if !p.ran || p.procCPU == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", p.procCPU)
}

// mariadbDetails prints the load, both decodings and both drains.
func (r *report) mariadbDetails(w io.Writer) {
	m := r.mariadb
	if m == nil || !m.ran || m.load == 0 {
		return
	}
	fmt.Fprintf(w, "  MariaDB         load on blue %.1f s (%s rows/s, %d-row INSERT … SELECT transactions); binlog %s → %s (%.0f MiB)\n",
		m.load.Seconds(), thousands(float64(m.rows)/m.load.Seconds()), r.o.txn, m.start, m.end, m.binlogMiB)
	for _, d := range []struct {
		name string
		d    *decodeResult
	}{{"capture/mysql", &m.capture}, {"mariadb-binlog", &m.tool}} {
		x := d.d
		if !x.ran {
			continue
		}
		if x.err != nil {
			fmt.Fprintf(w, "  %-15s FAILED: %v\n", d.name, x.err)
			continue
		}
		fmt.Fprintf(w, "  %-15s %d rows of %s.bench in %.2f s (%s rows/s", d.name, x.rows, myDB, x.took.Seconds(), thousands(x.rate()))
		if m.binlogMiB > 0 {
			fmt.Fprintf(w, ", %.0f MiB/s of binlog", m.binlogMiB/x.took.Seconds())
		}
		fmt.Fprintf(w, "); its CPU %.1f s, MariaDB blue's %.1f s", x.cpu, x.server)
		if x.txns > 0 {
			fmt.Fprintf(w, "; %d transactions handed on", x.txns)
		}
		if x.outMiB > 0 {
			fmt.Fprintf(w, "; %.0f MiB of text read and its INSERT lines counted by the bench (in place of /dev/null)", x.outMiB)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "                  %s\n", x.command)
	}
	for _, d := range []struct {
		name, green string
		p           *phaseResult
		check       string
	}{{"MariaDB→MariaDB", "green MariaDB", &m.mm, m.mmCheck}, {"MariaDB→PG", "green PG", &m.mp, m.mpCheck}} {
		p := d.p
		if !p.ran {
			continue
		}
		if p.drained.done <= 0 {
			fmt.Fprintf(w, "  %-15s FAILED: %v\n", d.name, p.err)
			continue
		}
		steady := ""
		if x := p.drained.done - p.drained.first; x > 0 {
			steady = fmt.Sprintf(", %s rows/s after the first change", thousands(float64(m.rows)/x.Seconds()))
		}
		fmt.Fprintf(w, "  %-15s drain %.2f s, first change after %.2f s%s; bgsync VmHWM %.0f MiB, CPU %.1f s (%.1f µs/row), SIGTERM → exit %.2f s\n",
			d.name, p.drained.done.Seconds(), p.drained.first.Seconds(), steady, float64(p.rssKiB)/1024, p.procCPU, 1e6*p.procCPU/float64(m.rows), p.stop.Seconds())
		if c := p.cpu; c.wall > 0 {
			fmt.Fprintf(w, "                  CPU s during the drain: bgsync %.1f,", c.engine)
			if c.perCluster {
				fmt.Fprintf(w, " blue MariaDB %.1f, %s %.1f,", c.blue, d.green, c.green)
			}
			fmt.Fprintf(w, " whole machine %.1f of %.1f available\n", c.machine, c.machineAvail)
		}
		if p.drained.odd != "" {
			fmt.Fprintf(w, "                  ODD: %s\n", p.drained.odd)
		}
		if d.check != "" {
			fmt.Fprintf(w, "                  checked: %s\n", d.check)
		}
	}
}
