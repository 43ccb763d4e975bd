package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The transforms part of the bench: bgsync's one-way drain (bgsyncDrain,
// the measurement of the inserts row) of the same rows twice on database
// bench_transform, once into a green table of blue's own shape (no
// transforms: the reference) and once into green's next schema version,
// customers → clients with a rename, a split of name into two columns
// and attrs text → jsonb. The transformed run's result is then checked on
// green, row by row.
const transformDB = "bench_transform" // also bgsync's name: schema, slots, origins

// Blue's rows, one expression per column over the id g, so the check can
// recompute what green must hold. Names have one, two and three words;
// one attrs in 50 is NULL.
const (
	xfEmailExpr = `'user' || g || '@example.com'`
	xfNameExpr  = `CASE g % 3 WHEN 0 THEN 'Ada' || g || ' Lovelace' WHEN 1 THEN 'Ada' || g || ' King Lovelace' ELSE 'Cher' || g END`
	xfAttrsExpr = `CASE WHEN g % 50 = 0 THEN NULL ELSE '{"w": ' || (g % 1000) || ', "tags": ["a", "b"], "vip": ' || (g % 7 = 0) || ', "note": "row ' || g || '"}' END`

	xfBlueDDL  = `CREATE TABLE customers (id int PRIMARY KEY, email text, name text, attrs text)`
	xfGreenDDL = `CREATE TABLE clients (id int PRIMARY KEY, email_address text, first_name text, last_name text, attrs jsonb)`

	xfInsertSQL = `INSERT INTO customers (id, email, name, attrs)
SELECT g, ` + xfEmailExpr + `, ` + xfNameExpr + `, ` + xfAttrsExpr + `
FROM generate_series($1::int, $2::int) g`

	// The tables entry of the transformed run: the documented example
	// (configs/bgsync.example.yaml) without its price columns.
	xfTablesOn = `  - name: public.customers
    green_name: clients
    transforms:
      blue_to_green:
        rename: {email: email_address}
        set:
          first_name: 'split_part(name, " ", 0)'
          last_name: 'trim(join(split(name, " ")[1:], " "))'
        drop: [name]
      green_to_blue:
        rename: {email_address: email}
        set: {name: 'trim(first_name + " " + last_name)'}
        drop: [first_name, last_name]
`
	xfTablesOff = "  - name: public.customers\n"
)

// transformResult is the transforms part of the report.
type transformResult struct {
	ran      bool
	rows     int
	off, on  phaseResult // without transforms, with them
	checked  string      // what the check of the transformed run found right
	checkErr error       // the transformed run's result is wrong
	mapBench mapBenchResult
	problems []string
}

func (r *transformResult) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	logf("PROBLEM: %s", msg)
	r.problems = append(r.problems, msg)
}

func (e *env) transformConfig(on bool) string {
	if on {
		return filepath.Join(e.o.workDir, "bgsync-transform-on.yaml")
	}
	return filepath.Join(e.o.workDir, "bgsync-transform-off.yaml")
}

func (e *env) writeTransformConfig(on bool) error {
	tables := xfTablesOff
	if on {
		tables = xfTablesOn
	}
	cfg := fmt.Sprintf(`# written by tools/bench (transforms)
name: %s
state_dir: %s
blue:
  engine: postgres
  dsn: %q
green:
  engine: postgres
  dsn: %q
directions: blue-to-green
kafka:
  brokers: embedded
tables:
%sapply:
  batch_rows: 5000
log:
  level: info
  format: json
http:
  listen: "127.0.0.1:0"
`, transformDB, e.stateDir+"-transform", e.blue.dsn(transformDB), e.green.dsn(transformDB), tables)
	return os.WriteFile(e.transformConfig(on), []byte(cfg), 0o600)
}

// runTransforms drains o.transformRows inserts without transforms, then
// with them, checks the transformed result, and runs BenchmarkMap.
func (e *env) runTransforms(ctx context.Context) *transformResult {
	r := &transformResult{ran: true, rows: e.o.transformRows}
	for _, run := range []struct {
		on bool
		p  *phaseResult
	}{{false, &r.off}, {true, &r.on}} {
		*run.p = e.transformDrain(ctx, run.on, r)
		if run.p.err != nil || ctx.Err() != nil {
			return r
		}
	}
	if e.o.mapBench {
		r.mapBench = runMapBench(ctx)
		if r.mapBench.err != nil {
			r.problem("BenchmarkMap: %v", r.mapBench.err)
		}
	}
	return r
}

// transformDrain is one run on a fresh database: setup, the timed drain,
// the check of green's rows, and teardown.
func (e *env) transformDrain(ctx context.Context, on bool, r *transformResult) phaseResult {
	name, greenDDL, greenTable := "transforms-off", xfBlueDDL, "customers"
	if on {
		name, greenDDL, greenTable = "transforms-on", xfGreenDDL, "clients"
	}
	fail := func(err error) phaseResult {
		r.problem("bgsync %s: %v", name, err)
		return phaseResult{ran: true, err: err}
	}
	if err := errors.Join(ensure(ctx, e.blue, "postgres", &e.adminBlue), ensure(ctx, e.green, "postgres", &e.adminGreen)); err != nil {
		return fail(err)
	}
	for _, err := range e.cleanupTransforms(ctx) {
		logf("transforms: cleanup: %v", err)
	}
	logf("bgsync %s: fresh database %s on blue and green, bgsync setup", name, transformDB)
	err := errors.Join(freshDBWith(ctx, e.adminBlue, e.blue, transformDB, xfBlueDDL),
		freshDBWith(ctx, e.adminGreen, e.green, transformDB, greenDDL))
	if err == nil {
		err = e.writeTransformConfig(on)
	}
	if err != nil {
		return fail(err)
	}
	if out, err := e.bgsyncCmdWith(ctx, e.transformConfig(on), "setup").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("setup: %v\n%s", err, out))
	}
	blue, err := e.blue.connect(ctx, transformDB)
	if err != nil {
		return fail(err)
	}
	defer func() { blue.Close(context.Background()) }()
	green, err := e.green.connect(ctx, transformDB)
	if err != nil {
		return fail(err)
	}
	defer func() { green.Close(context.Background()) }()

	p := e.bgsyncDrain(ctx, &blue, &green, drainSpec{phase: "inserts", name: name, db: transformDB, config: e.transformConfig(on),
		rows: r.rows, load: xfInsertSQL, blueTable: "customers", greenTable: greenTable}, r)
	if p.err != nil {
		return p
	}
	checked, err := checkTransformed(ctx, blue, green, on, r.rows)
	if err != nil {
		p.err = fmt.Errorf("green's rows are wrong: %w", err)
		r.problem("bgsync %s: %v", name, p.err)
		if on {
			r.checkErr = err
		}
		return p
	}
	logf("bgsync %s: check: %s", name, checked)
	if on {
		r.checked = checked
	}
	return p
}

// checkTransformed checks green after a drain of rows: the count, every
// row against the mapping of the blue row its id generated (computed in
// SQL on green), and a sample of blue's rows read back and mapped here
// (split in Go, attrs parsed as jsonb by green) against green's.
func checkTransformed(ctx context.Context, blue, green *pgx.Conn, on bool, rows int) (string, error) {
	table, want := "customers", `email IS NOT DISTINCT FROM e AND name IS NOT DISTINCT FROM n AND attrs IS NOT DISTINCT FROM j`
	if on {
		table = "clients"
		want = `email_address IS NOT DISTINCT FROM e
	AND first_name IS NOT DISTINCT FROM split_part(n, ' ', 1)
	AND last_name IS NOT DISTINCT FROM trim(substr(n, length(split_part(n, ' ', 1)) + 2))
	AND attrs IS NOT DISTINCT FROM j::jsonb`
	}
	var got, bad int64
	sql := `SELECT count(*), count(*) FILTER (WHERE NOT (` + want + `))
FROM (SELECT t.*, ` + xfEmailExpr + ` AS e, ` + xfNameExpr + ` AS n, ` + xfAttrsExpr + ` AS j
      FROM (SELECT *, id AS g FROM ` + table + `) t) s`
	if err := green.QueryRow(ctx, sql).Scan(&got, &bad); err != nil {
		return "", fmt.Errorf("green: check every row: %w", err)
	}
	if got != int64(rows) || bad != 0 {
		return "", fmt.Errorf("green %s: %d rows (want %d), %d not the mapping of their blue row", table, got, rows, bad)
	}

	ids := []int{1, 2, 3, 50, rows / 2, rows}
	for _, id := range ids {
		var email, name, attrs *string
		if err := blue.QueryRow(ctx, `SELECT email, name, attrs FROM customers WHERE id = $1`, id).Scan(&email, &name, &attrs); err != nil {
			return "", fmt.Errorf("blue: customers id %d: %w", id, err)
		}
		var ok bool
		var err error
		if on {
			first, last := splitName(name)
			err = green.QueryRow(ctx, `SELECT email_address IS NOT DISTINCT FROM $2 AND first_name IS NOT DISTINCT FROM $3
	AND last_name IS NOT DISTINCT FROM $4 AND attrs IS NOT DISTINCT FROM $5::jsonb FROM clients WHERE id = $1`,
				id, email, first, last, attrs).Scan(&ok)
		} else {
			err = green.QueryRow(ctx, `SELECT email IS NOT DISTINCT FROM $2 AND name IS NOT DISTINCT FROM $3
	AND attrs IS NOT DISTINCT FROM $4 FROM customers WHERE id = $1`, id, email, name, attrs).Scan(&ok)
		}
		if err == nil && !ok {
			err = fmt.Errorf("differs from blue's (%v, %v, %v)", deref(email), deref(name), deref(attrs))
		}
		if err != nil {
			return "", fmt.Errorf("green %s id %d: %w", table, id, err)
		}
	}
	what := "email, name and attrs"
	if on {
		what = "email_address, first_name, last_name and attrs (jsonb)"
	}
	return fmt.Sprintf("%d rows on green %s, every row's %s the mapping of its blue row; ids %s read from blue, mapped here, equal on green",
		got, table, what, strings.Trim(fmt.Sprint(ids), "[]")), nil
}

// splitName is what the blue_to_green set of xfTablesOn computes.
func splitName(name *string) (first, last *string) {
	if name == nil {
		return nil, nil
	}
	parts := strings.Split(*name, " ")
	f, l := parts[0], strings.TrimSpace(strings.Join(parts[1:], " "))
	return &f, &l
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}

// cleanupTransforms tears bgsync down and drops the database, slots,
// origins and state of the transforms drains (a bgsync left running by an
// interrupted bench is stopped by cleanupBgsync, through the pid file).
func (e *env) cleanupTransforms(ctx context.Context) []error {
	var errs []error
	var exists bool
	_ = e.adminBlue.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, transformDB).Scan(&exists)
	for _, on := range []bool{true, false} {
		if _, err := os.Stat(e.transformConfig(on)); err == nil && exists {
			if out, err := e.bgsyncCmdWith(ctx, e.transformConfig(on), "teardown").CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("bgsync teardown (transforms): %v: %s", err, strings.TrimSpace(string(out))))
			}
			break
		}
	}
	errs = append(errs, e.dropSideDBs(ctx, transformDB)...)
	return slicesCompact(append(errs, os.RemoveAll(e.stateDir+"-transform")))
}
