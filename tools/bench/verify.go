package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// The verify part of the bench: two tables of o.verifyRows identical rows
// on both clusters (database bench_verify), read whole by a raw COPY ... TO
// STDOUT of both tables from both sides at once (the floor any row-by-row
// comparison pays), then compared by bgsync verify.
const verifyDB = "bench_verify"

var verifyTables = []string{"va", "vb"}

type verifyResult struct {
	ran          bool
	rows         int64 // rows read on both sides (4 x o.verifyRows)
	raw, verify  time.Duration
	rssKiB       int64
	status, note string
	err          error
}

func (r verifyResult) rate(d time.Duration) float64 {
	if !r.ran || r.err != nil || d <= 0 {
		return 0
	}
	return float64(r.rows) / d.Seconds()
}

func (e *env) verifyConfig() string { return filepath.Join(e.o.workDir, "bgsync-verify.yaml") }

func (e *env) runVerify(ctx context.Context) verifyResult {
	r := verifyResult{ran: true, rows: 4 * int64(e.o.verifyRows)}
	n := e.o.verifyRows
	logf("verify: %d rows in each of %s on blue and green (database %s)", n, strings.Join(verifyTables, ", "), verifyDB)
	var g errgroup.Group
	for _, s := range []struct {
		admin *pgx.Conn
		c     cluster
	}{{e.adminBlue, e.blue}, {e.adminGreen, e.green}} {
		if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+verifyDB+" WITH (FORCE)"); err != nil {
			r.err = err
			return r
		}
		if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+verifyDB); err != nil {
			r.err = err
			return r
		}
		for _, t := range verifyTables {
			g.Go(func() error {
				conn, err := s.c.connect(ctx, verifyDB)
				if err != nil {
					return err
				}
				defer conn.Close(context.Background())
				sql := strings.ReplaceAll(`CREATE TABLE {t} (id bigint PRIMARY KEY, a int NOT NULL, b text NOT NULL,
	c numeric(12,2) NOT NULL, d timestamptz NOT NULL);
INSERT INTO {t} SELECT g, (g % 1000)::int, rpad(md5(g::text), 100, md5((g * 7)::text)),
	((g * 37) % 10000000) / 100.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1, `+strconv.Itoa(n)+`) g;
VACUUM (ANALYZE) {t}`, "{t}", t)
				for _, stmt := range strings.Split(sql, ";\n") {
					if _, err := conn.Exec(ctx, stmt); err != nil {
						return fmt.Errorf("%s: %s: %w", s.c.name, t, err)
					}
				}
				return nil
			})
		}
	}
	if r.err = g.Wait(); r.err != nil {
		return r
	}

	// Raw: COPY both tables from both sides at once, output discarded.
	start := time.Now()
	var raw errgroup.Group
	for _, c := range []cluster{e.blue, e.green} {
		for _, t := range verifyTables {
			raw.Go(func() error {
				conn, err := c.connect(ctx, verifyDB)
				if err != nil {
					return err
				}
				defer conn.Close(context.Background())
				_, err = conn.PgConn().CopyTo(ctx, io.Discard, "COPY (SELECT * FROM "+t+") TO STDOUT")
				return err
			})
		}
	}
	if r.err = raw.Wait(); r.err != nil {
		return r
	}
	r.raw = time.Since(start)
	logf("verify: raw COPY of both tables from both sides: %.1f s (%.0f rows/s)", r.raw.Seconds(), r.rate(r.raw))

	cfg := fmt.Sprintf("name: %s\nstate_dir: %s\nblue: {engine: postgres, dsn: %q}\ngreen: {engine: postgres, dsn: %q}\n"+
		"directions: blue-to-green\ntables:\n  - name: public.va\n  - name: public.vb\nhttp: {listen: \"127.0.0.1:0\"}\n",
		verifyDB, e.stateDir+"-verify", e.blue.dsn(verifyDB), e.green.dsn(verifyDB))
	if r.err = os.WriteFile(e.verifyConfig(), []byte(cfg), 0o600); r.err != nil {
		return r
	}
	cmd := e.bgsyncCmdWith(ctx, e.verifyConfig(), "verify", "--no-wait", "--progress", "0")
	start = time.Now()
	out, err := cmd.Output()
	r.verify = time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rssKiB = ru.Maxrss
	}
	r.status = lastLine(string(out))
	if err != nil {
		r.err = fmt.Errorf("bgsync verify: %v: %s", err, r.status)
		return r
	}
	logf("verify: bgsync verify: %.1f s (%.0f rows/s), peak RSS %d MiB: %s", r.verify.Seconds(), r.rate(r.verify), r.rssKiB>>10, r.status)
	return r
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func (e *env) cleanupVerify(ctx context.Context) []error {
	var errs []error
	for _, c := range []*pgx.Conn{e.adminBlue, e.adminGreen} {
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+verifyDB+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", verifyDB, err))
		}
	}
	return errs
}

// verifyRows are the verify lines of the table.
func (r *report) verifyRows() [][]string {
	v := r.verifyRes
	if !v.ran {
		return nil
	}
	label := fmt.Sprintf("verify rows/s (2 tables x %s rows, both sides; vs raw COPY of the same)", count(r.o.verifyRows))
	row := []string{label, "-", "failed", "", "ratio ≥ 0.8"}
	if v.err == nil {
		raw, ver := v.rate(v.raw), v.rate(v.verify)
		row[1] = "raw COPY " + thousands(raw)
		row[2] = thousands(ver)
		row[3] = fmt.Sprintf("%.2f", ver/raw)
		row[4] += verdict(ver/raw >= 0.8)
	}
	rss := []string{"bgsync verify peak RSS (MiB)", "", "", "", "< 256 MiB"}
	if v.rssKiB > 0 {
		rss[2] = fmt.Sprintf("%.0f", float64(v.rssKiB)/1024)
		rss[4] += verdict(float64(v.rssKiB)/1024 < 256)
	}
	return [][]string{row, rss}
}
