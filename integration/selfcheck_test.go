package integration

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestComparisonSelfCheck validates the suite's own tools without bgsync:
// the workload is deterministic, the comparison finds green equal to a
// pg_dump copy of blue, the applied-once proof holds for it, and both
// detect (and point at) differences planted on green.
func TestComparisonSelfCheck(t *testing.T) {
	requireIntegration(t)
	db := newTestDB(t, "selfcheck")
	createSchema(t, db, false)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The same seed on blue and on green gives the same rows (txlog's
	// xids aside: they are each cluster's own).
	size := fullSize().scaled(0.05)
	wb := newWorkload(t, size)
	wb.runAll(t, ctx, db.BlueDSN)
	wg := newSeededWorkload(t, size, wb.seed)
	wg.runAll(t, ctx, db.GreenDSN)
	if wb.changes != wg.changes || wb.txns != wg.txns {
		t.Fatalf("same seed, different workload: blue %d changes/%d txns, green %d/%d", wb.changes, wb.txns, wg.changes, wg.txns)
	}
	var userTables []tableSpec
	for _, s := range syncedTables {
		if s.Name != "public.txlog" {
			userTables = append(userTables, s)
		}
	}
	assertEqual(t, db.BlueDSN, db.GreenDSN, userTables)
	assertToasted(t, db.BlueDSN, "accounts")
	assertEdgeValuesPresent(t, db.BlueDSN)

	// Copy blue to green with pg_dump; the copy must compare equal and
	// pass the proof (COPY fires green's txlog trigger once per row).
	if err := execAdmin(ctx, db.GreenDSN, "TRUNCATE "+strings.Join(tableNames(syncedTables), ", ")+", applied_log"); err != nil {
		t.Fatal(err)
	}
	copyData(t, ctx, db.BlueDSN, db.GreenDSN, tableNames(syncedTables))
	assertEqual(t, db.BlueDSN, db.GreenDSN, syncedTables)
	assertAppliedOnce(t, db, wb.txns)

	// Plant differences on green; the comparison must report exactly the
	// tables and keys touched, and the proof the duplicate and the loss.
	plant := []string{
		`UPDATE orders SET note = coalesce(note, '') || 'x' WHERE id = (SELECT min(id) FROM orders)`,
		`DELETE FROM accounts WHERE id = (SELECT max(id) FROM accounts)`,
		`UPDATE accounts SET notes = NULL WHERE id = (SELECT min(id) FROM accounts WHERE octet_length(notes) > 4000)`,
		`INSERT INTO alltypes (id) VALUES (999999999)`,
		`UPDATE alltypes SET c_float8 = 0 WHERE c_float8::text = '-0'`,
		`DELETE FROM applied_log WHERE seq = (SELECT max(seq) FROM applied_log)`,
		`INSERT INTO applied_log (xid, op) SELECT xid, 'INSERT' FROM applied_log ORDER BY seq LIMIT 1`,
	}
	for _, s := range plant {
		if err := execAdmin(ctx, db.GreenDSN, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	res, err := compareOnce(ctx, db.BlueDSN, db.GreenDSN, syncedTables)
	if err != nil {
		t.Fatal(err)
	}
	var differing []string
	for _, r := range res {
		if !r.equal() {
			differing = append(differing, r.Spec.Name)
		}
	}
	if got, want := strings.Join(differing, " "), "public.alltypes public.accounts public.orders"; got != want {
		t.Errorf("differing tables = %q, want %q\n%s", got, want, formatResults(res))
	}
	var report strings.Builder
	for _, r := range res {
		if !r.equal() {
			report.WriteString(diffRows(ctx, db.BlueDSN, db.GreenDSN, r.Spec, 5))
		}
	}
	t.Logf("diff report of the planted differences:%s", report.String())
	for _, want := range []string{"extra on green: key 999999999", "missing on green: key", "column notes", "column note ", "column c_float8",
		"1 missing on green, 0 extra on green, 1 different"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("diff report lacks %q", want)
		}
	}
	_, problems, err := appliedOnceProblems(ctx, db, wb.txns)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(problems, "\n")
	if !strings.Contains(joined, "applied more than once") || !strings.Contains(joined, "never applied") {
		t.Errorf("the proof missed the planted duplicate or loss; it said:\n%s", joined)
	}
}

// copyData copies the rows of tables from one database to another with
// pg_dump | psql (independent of bgsync and of this package's SQL).
func copyData(t *testing.T, ctx context.Context, from, to string, tables []string) {
	t.Helper()
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump not installed")
	}
	args := []string{"--data-only", "--no-owner", "-d", from}
	for _, tbl := range tables {
		args = append(args, "-t", tbl)
	}
	dump := exec.CommandContext(ctx, "pg_dump", args...)
	restore := exec.CommandContext(ctx, "psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", to)
	pipe, err := dump.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	restore.Stdin = pipe
	var dumpErr, restoreOut strings.Builder
	dump.Stderr = &dumpErr
	restore.Stdout, restore.Stderr = &restoreOut, &restoreOut
	if err := dump.Start(); err != nil {
		t.Fatal(err)
	}
	if err := restore.Run(); err != nil {
		t.Fatalf("psql restore: %v\n%s", err, restoreOut.String())
	}
	if err := dump.Wait(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, dumpErr.String())
	}
}

// assertToasted checks that some values of table's notes column are
// stored out of line, so the TOAST cases are really exercised.
func assertToasted(t *testing.T, dsn, table string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := mustConnect(t, dsn)
	var toastRel string
	if err := conn.QueryRow(ctx, `SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = $1::regclass`, table).Scan(&toastRel); err != nil {
		t.Fatal(err)
	}
	var chunks int64
	if err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s`, toastRel)).Scan(&chunks); err != nil {
		t.Fatal(err)
	}
	var big int64
	if err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE octet_length(notes) > 4000`, table)).Scan(&big); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d rows with notes > 4000 bytes, %d chunks in %s", table, big, chunks, toastRel)
	if chunks == 0 || big == 0 {
		t.Errorf("%s has no TOASTed notes (%d big rows, %d TOAST chunks): the TOAST cases test nothing", table, big, chunks)
	}
}

// assertEdgeValuesPresent checks a sample of the edge values really landed
// on blue as intended (the literals are not silently normalised away).
func assertEdgeValuesPresent(t *testing.T, dsn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := mustConnect(t, dsn)
	checks := []string{
		`c_float8 = 'NaN'`, `c_float8 = 'Infinity'`, `c_float8 = '-Infinity'`, `c_float8::text = '-0'`,
		`c_float4 = 'NaN'`, `c_numeric = 'NaN'`, `c_numeric::text = '1.10'`, `c_numeric = 'Infinity'`,
		`c_date = 'infinity'`, `c_date < '0001-01-01'`, `c_timestamp = '-infinity'`, `c_timestamptz = 'infinity'`,
		`c_interval < '0'`, `c_text = ''`, `c_text IS NULL`, `c_text LIKE '%😀%'`, `position(E'\\x00'::bytea in c_bytea) > 0`,
		`EXISTS (SELECT FROM unnest(c_text_arr) e WHERE e IS NULL)`, `array_ndims(c_int4_arr) = 3`, `c_timestamp = '294276-12-31 23:59:59.999999'`,
		`c_json::text LIKE '%  %'`, `c_enum = 'it''s'`, `c_enum_arr @> '{"with space"}'`, `c_time = '24:00:00'`,
	}
	for _, c := range checks {
		var n int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM alltypes WHERE `+c).Scan(&n); err != nil {
			t.Errorf("check %s: %v", c, err)
			continue
		}
		if n == 0 {
			t.Errorf("no alltypes row with %s", c)
		}
	}
}
