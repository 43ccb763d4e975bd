package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
)

// snapshotRows are the snapshot lines of the table: bgsync snapshot's
// rows/s against pg_dump --data-only | psql of the same tables, its peak
// RSS, and the MariaDB → PostgreSQL copy's rows/s and peak RSS.
func (r *report) snapshotRows() [][]string {
	s := r.snapshot
	if s == nil {
		return nil
	}
	var rows [][]string
	if s.ran {
		label := fmt.Sprintf("snapshot rows/s (%s rows, %d tables, initial copy blue → green; vs pg_dump --data-only | psql)", count(s.total()), len(snapTables))
		ref, bg := s.ref.rate(), s.bg.rate()
		row := []string{label, snapCell(&s.ref, ref, "pg_dump|psql "), snapCell(&s.bg, bg, ""), "", "ratio ≥ 1.0"}
		if ref > 0 && bg > 0 {
			row[3] = fmt.Sprintf("%.2f", bg/ref)
			row[4] += verdict(bg/ref >= 1.0)
		}
		rows = append(rows, row, snapRSSRow("bgsync snapshot peak RSS (MiB, VmHWM)", &s.bg))
	}
	if m := s.my; m != nil && m.ran {
		label := fmt.Sprintf("snapshot MariaDB→PostgreSQL rows/s (%s rows, %d tables; no reference)", count(m.total()), len(snapMyTables))
		rows = append(rows, []string{label, "", snapCell(&m.bg, m.bg.rate(), ""), "", ""},
			snapRSSRow("bgsync snapshot MariaDB→PostgreSQL peak RSS (MiB, VmHWM)", &m.bg))
	}
	return rows
}

func snapCell(c *snapCopy, v float64, prefix string) string {
	switch {
	case !c.ran:
		return "-"
	case c.err != nil && strings.HasPrefix(c.err.Error(), "wrong result"):
		return prefix + "wrong result"
	case c.err != nil || v == 0:
		return prefix + "failed"
	}
	return prefix + thousands(v)
}

func snapRSSRow(label string, c *snapCopy) []string {
	row := []string{label, "", "", "", "< 256 MiB"}
	if c.ran && c.rssKiB > 0 {
		row[2] = fmt.Sprintf("%.0f", float64(c.rssKiB)/1024)
		row[4] += verdict(float64(c.rssKiB)/1024 < 256)
	}
	return row
}

// snapshotDetails prints the data, both copies side by side with their
// CPU, bgsync's own phases and the checks.
func (r *report) snapshotDetails(w io.Writer) {
	s := r.snapshot
	if s == nil {
		return
	}
	if s.ran {
		var tables []string
		for i, t := range snapTables {
			if i < len(s.rows) {
				tables = append(tables, fmt.Sprintf("%s %s (key %s)", t.name, thousands(float64(s.rows[i])), t.key))
			}
		}
		fmt.Fprintf(w, "  snapshot        blue: %s", strings.Join(tables, ", "))
		if s.load > 0 {
			fmt.Fprintf(w, "; loaded, keyed and vacuumed in %.1f s", s.load.Seconds())
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "                  (seconds: start → exit, wall clock; CPU s and RSS: the copying processes' own, pg_dump + psql or bgsync, RSS the larger\n"+
			"                  of pg_dump's and psql's peaks; blue PG, green PG: CPU s of each cluster's processes meanwhile; machine: busy of available CPU s,\n"+
			"                  %d CPUs)\n", runtime.NumCPU())
		fmt.Fprintf(w, "                  %-22s %10s %8s %12s %9s %8s %9s %9s %14s\n", "", "rows", "seconds", "rows/s", "CPU s", "RSS MiB", "blue PG", "green PG", "machine")
		for _, c := range []struct {
			name string
			c    *snapCopy
		}{{"pg_dump | psql", &s.ref}, {"bgsync snapshot", &s.bg}} {
			snapLine(w, c.name, c.c)
		}
		if s.plan > 0 {
			fmt.Fprintf(w, "                  bgsync's own phases: start → plan recorded %.2f s (config, preflight, views, key ranges), copy %.2f s, done → exit %.2f s\n",
				s.plan.Seconds(), s.copy.Seconds(), s.finish.Seconds())
		}
		if s.bg.output != "" {
			fmt.Fprintf(w, "                  bgsync: %s\n", s.bg.output)
		}
		if s.refCheck != "" {
			fmt.Fprintf(w, "                  pg_dump | psql checked: %s\n", s.refCheck)
		}
		if s.checked != "" {
			fmt.Fprintf(w, "                  bgsync checked: %s\n", s.checked)
		}
		if ref, bg := s.ref.rate(), s.bg.rate(); ref > 0 && bg > 0 {
			word := "faster"
			if bg < ref {
				word = "SLOWER"
			}
			fmt.Fprintf(w, "                  bgsync snapshot was %s than pg_dump | psql: %.2f s against %.2f s (%.2fx the rows/s)\n",
				word, s.bg.took.Seconds(), s.ref.took.Seconds(), bg/ref)
		}
	}
	if m := s.my; m != nil && m.ran {
		fmt.Fprintf(w, "  snapshot my→pg  MariaDB blue: %s %s, %s %s", snapMyTables[0].name, thousands(float64(m.rows[0])),
			snapMyTables[1].name, thousands(float64(m.rows[1])))
		if m.load > 0 {
			fmt.Fprintf(w, "; loaded in %.1f s", m.load.Seconds())
		}
		fmt.Fprintln(w)
		snapLine(w, "bgsync snapshot", &m.bg)
		if m.plan > 0 {
			fmt.Fprintf(w, "                  bgsync's own phases: start → plan recorded %.2f s, copy %.2f s, done → exit %.2f s (blue PG is MariaDB blue here)\n",
				m.plan.Seconds(), m.copy.Seconds(), m.finish.Seconds())
		}
		if m.bg.output != "" {
			fmt.Fprintf(w, "                  bgsync: %s\n", m.bg.output)
		}
		if m.checked != "" {
			fmt.Fprintf(w, "                  checked: %s\n", m.checked)
		}
	}
}

func snapLine(w io.Writer, name string, c *snapCopy) {
	if !c.ran {
		return
	}
	if c.took <= 0 {
		fmt.Fprintf(w, "                  %-22s FAILED: %v\n", name, c.err)
		return
	}
	cl := func(v float64) string {
		if !c.cpu.perCluster {
			return "-"
		}
		return fmt.Sprintf("%.1f", v)
	}
	fmt.Fprintf(w, "                  %-22s %10s %8.2f %12s %9.1f %8.0f %9s %9s %14s\n", name, thousands(float64(c.rows)), c.took.Seconds(),
		thousands(float64(c.rows)/c.took.Seconds()), c.procCPU, float64(c.rssKiB)/1024, cl(c.cpu.blue), cl(c.cpu.green),
		fmt.Sprintf("%.1f of %.1f", c.cpu.machine, c.cpu.machineAvail))
	if c.err != nil {
		fmt.Fprintf(w, "                  %-22s FAILED: %v\n", "", c.err)
	}
}

// snapshotProblems are the snapshot part's problems, for the report's list.
func (r *report) snapshotProblems() []string {
	s := r.snapshot
	if s == nil {
		return nil
	}
	out := append([]string(nil), s.problems...)
	if s.my != nil {
		out = append(out, s.my.problems...)
	}
	return out
}
