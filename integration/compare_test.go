package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The comparison here uses only SQL and this package: it shares no code
// with bgsync. A table matches when its row count and the md5 of all its
// rows' text, in primary-key order, are equal on both sides.

// summary is one table's fingerprint on one side.
type summary struct {
	Count int64
	MD5   string
}

// orderBy is the primary-key ORDER BY list of a table aliased t.
func (s tableSpec) orderBy() string { return s.keyList("t.") }

// keyList joins the key columns, each prefixed.
func (s tableSpec) keyList(prefix string) string {
	cols := make([]string, len(s.PK))
	for i, c := range s.PK {
		cols[i] = prefix + pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(cols, ", ")
}

// keyExpr is the key of row t as text.
func (s tableSpec) keyExpr() string {
	if len(s.PK) == 1 {
		return s.keyList("t.") + "::text"
	}
	return "ROW(" + s.keyList("t.") + ")::text"
}

func summarize(ctx context.Context, conn *pgx.Conn, s tableSpec) (summary, error) {
	var sum summary
	q := fmt.Sprintf(`SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY %s)), '') FROM %s t`, s.orderBy(), s.Name)
	if err := conn.QueryRow(ctx, q).Scan(&sum.Count, &sum.MD5); err != nil {
		return sum, fmt.Errorf("summarize %s: %w", s.Name, err)
	}
	return sum, nil
}

// tableResult is the comparison of one table.
type tableResult struct {
	Spec        tableSpec
	Blue, Green summary
}

func (r tableResult) equal() bool { return r.Blue == r.Green }

func (r tableResult) String() string {
	mark := "ok"
	if !r.equal() {
		mark = "DIFFERENT"
	}
	return fmt.Sprintf("%-20s blue %7d rows %s | green %7d rows %s  %s", r.Spec.Name, r.Blue.Count, short(r.Blue.MD5), r.Green.Count, short(r.Green.MD5), mark)
}

func short(md5 string) string {
	if len(md5) > 8 {
		return md5[:8]
	}
	return fmt.Sprintf("%-8s", md5)
}

// compareOnce fingerprints every table on both sides (the two sides in
// parallel).
func compareOnce(ctx context.Context, blueDSN, greenDSN string, specs []tableSpec) ([]tableResult, error) {
	type side struct {
		sums []summary
		err  error
	}
	run := func(dsn string) side {
		conn, err := connect(ctx, dsn)
		if err != nil {
			return side{err: err}
		}
		defer conn.Close(ctx)
		var out side
		for _, s := range specs {
			sum, err := summarize(ctx, conn, s)
			if err != nil {
				return side{err: err}
			}
			out.sums = append(out.sums, sum)
		}
		return out
	}
	ch := make(chan side, 1)
	go func() { ch <- run(greenDSN) }()
	b := run(blueDSN)
	g := <-ch
	if b.err != nil {
		return nil, fmt.Errorf("blue: %w", b.err)
	}
	if g.err != nil {
		return nil, fmt.Errorf("green: %w", g.err)
	}
	res := make([]tableResult, len(specs))
	for i, s := range specs {
		res[i] = tableResult{Spec: s, Blue: b.sums[i], Green: g.sums[i]}
	}
	return res, nil
}

func allEqual(res []tableResult) bool {
	for _, r := range res {
		if !r.equal() {
			return false
		}
	}
	return true
}

func formatResults(res []tableResult) string {
	var b strings.Builder
	for _, r := range res {
		b.WriteString("  " + r.String() + "\n")
	}
	return b.String()
}

// stallTimeout is how long green may apply nothing while behind blue
// before waitConverged gives up early: bgsync is stuck, not slow.
const stallTimeout = 90 * time.Second

// waitConverged polls until every table matches on both sides or timeout
// passes; alive is called on every poll and ends the wait early with its
// error (bgsync exited). While green's txlog is behind blue's, a poll only
// counts txlog rows (cheap); the full comparison runs once they are
// level. If green applies nothing for stallTimeout while behind, the wait
// ends early. On failure it prints the first differing rows of every
// differing table.
func waitConverged(t *testing.T, db *testDB, specs []tableSpec, timeout time.Duration, alive func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Minute)
	defer cancel()
	hasTxlog := slices.ContainsFunc(specs, func(s tableSpec) bool { return s.Name == "public.txlog" })
	start := time.Now()
	deadline := start.Add(timeout)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	lastLog, lastMove, lastGreen := start, start, int64(-1)
	var res []tableResult
	var err error
	var reason string
	for {
		if alive != nil {
			if aerr := alive(); aerr != nil {
				t.Fatalf("while waiting for green to match blue: %v", aerr)
			}
		}
		behind := false
		if hasTxlog {
			b, berr := queryInt(ctx, db.BlueDSN, `SELECT count(*) FROM txlog`)
			g, gerr := queryInt(ctx, db.GreenDSN, `SELECT count(*) FROM txlog`)
			if berr == nil && gerr == nil {
				behind = g < b
				if g != lastGreen {
					lastGreen, lastMove = g, time.Now()
				}
				if behind && time.Since(lastMove) > stallTimeout {
					reason = fmt.Sprintf("green applied nothing for %s while behind blue (txlog: green %d rows, blue %d)", stallTimeout, g, b)
					break
				}
			}
		}
		if !behind {
			res, err = compareOnce(ctx, db.BlueDSN, db.GreenDSN, specs)
			if err == nil && allEqual(res) {
				t.Logf("green matches blue after %s:\n%s", time.Since(start).Round(time.Millisecond), formatResults(res))
				return
			}
		}
		if time.Now().After(deadline) {
			reason = fmt.Sprintf("green did not match blue within %s", timeout)
			break
		}
		if time.Since(lastLog) > 15*time.Second {
			lastLog = time.Now()
			t.Logf("waiting for convergence (%s): green has applied %d txlog rows", time.Since(start).Round(time.Second), lastGreen)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	res, err = compareOnce(ctx, db.BlueDSN, db.GreenDSN, specs)
	if err != nil {
		t.Fatalf("%s; the comparison failed: %v", reason, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n%s", reason, formatResults(res))
	for _, r := range res {
		if !r.equal() {
			b.WriteString(diffRows(ctx, db.BlueDSN, db.GreenDSN, r.Spec, 5))
		}
	}
	t.Fatal(b.String())
}

// assertEqual compares once (no waiting) and fails with the differing rows.
func assertEqual(t *testing.T, blueDSN, greenDSN string, specs []tableSpec) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := compareOnce(ctx, blueDSN, greenDSN, specs)
	if err != nil {
		t.Fatal(err)
	}
	if allEqual(res) {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "tables differ:\n%s", formatResults(res))
	for _, r := range res {
		if !r.equal() {
			b.WriteString(diffRows(ctx, blueDSN, greenDSN, r.Spec, 5))
		}
	}
	t.Error(b.String())
}

// sideRows is one table's rows on one side, by key text.
type sideRows struct {
	keys []string // in primary-key order
	text map[string]string
	json map[string]string
}

func loadRows(ctx context.Context, dsn string, s tableSpec) (*sideRows, error) {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	q := fmt.Sprintf(`SELECT %s, t::text, row_to_json(t)::text FROM %s t ORDER BY %s`, s.keyExpr(), s.Name, s.orderBy())
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &sideRows{text: map[string]string{}, json: map[string]string{}}
	for rows.Next() {
		var k, txt, js string
		if err := rows.Scan(&k, &txt, &js); err != nil {
			return nil, err
		}
		out.keys = append(out.keys, k)
		out.text[k], out.json[k] = txt, js
	}
	return out, rows.Err()
}

// diffRows describes the first limit rows (by primary key) missing on
// green, extra on green, and different, with the differing columns.
func diffRows(ctx context.Context, blueDSN, greenDSN string, s tableSpec, limit int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n=== %s: first differences by primary key (%s) ===\n", s.Name, strings.Join(s.PK, ", "))
	blue, err := loadRows(ctx, blueDSN, s)
	if err != nil {
		return b.String() + "  cannot read blue: " + err.Error() + "\n"
	}
	green, err := loadRows(ctx, greenDSN, s)
	if err != nil {
		return b.String() + "  cannot read green: " + err.Error() + "\n"
	}
	var missing, differs, extra int
	for _, k := range blue.keys {
		g, ok := green.text[k]
		switch {
		case !ok:
			if missing < limit {
				fmt.Fprintf(&b, "  missing on green: key %s: %s\n", k, clip(blue.text[k], 200))
			}
			missing++
		case g != blue.text[k]:
			if differs < limit {
				fmt.Fprintf(&b, "  differs: key %s:\n%s", k, columnDiff(blue.json[k], green.json[k], blue.text[k], g))
			}
			differs++
		}
	}
	for _, k := range green.keys {
		if _, ok := blue.text[k]; !ok {
			if extra < limit {
				fmt.Fprintf(&b, "  extra on green: key %s: %s\n", k, clip(green.text[k], 200))
			}
			extra++
		}
	}
	fmt.Fprintf(&b, "  totals: %d missing on green, %d extra on green, %d different (blue %d rows, green %d rows)\n",
		missing, extra, differs, len(blue.keys), len(green.keys))
	return b.String()
}

// columnDiff lists the columns whose JSON values differ.
func columnDiff(blueJSON, greenJSON, blueText, greenText string) string {
	var bm, gm map[string]json.RawMessage
	if json.Unmarshal([]byte(blueJSON), &bm) != nil || json.Unmarshal([]byte(greenJSON), &gm) != nil {
		return fmt.Sprintf("    blue:  %s\n    green: %s\n", clip(blueText, 300), clip(greenText, 300))
	}
	var cols []string
	for c := range bm {
		cols = append(cols, c)
	}
	for c := range gm {
		if _, ok := bm[c]; !ok {
			cols = append(cols, c)
		}
	}
	sort.Strings(cols)
	var b strings.Builder
	for _, c := range cols {
		bv, gv := string(bm[c]), string(gm[c])
		if bv == gv {
			continue
		}
		at := firstDiff(bv, gv)
		fmt.Fprintf(&b, "    column %s (first difference at byte %d, blue %d bytes, green %d bytes):\n      blue:  %s\n      green: %s\n",
			c, at, len(bv), len(gv), clipAround(bv, at, 160), clipAround(gv, at, 160))
	}
	if b.Len() == 0 { // equal as JSON, different as row text
		fmt.Fprintf(&b, "    (same JSON) blue text:  %s\n                green text: %s\n", clip(blueText, 300), clip(greenText, 300))
	}
	return b.String()
}

func firstDiff(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("…(%d bytes)", len(s))
}

// clipAround shows about n bytes of s around offset at.
func clipAround(s string, at, n int) string {
	lo := max(0, at-n/2)
	hi := min(len(s), lo+n)
	out := s[lo:hi]
	if lo > 0 {
		out = "…" + out
	}
	if hi < len(s) {
		out += "…"
	}
	return out
}

// assertAppliedOnce proves, from green's applied_log, that every source
// transaction recorded in blue's txlog was applied on green exactly once:
// none twice (no duplicate xid, no replay as UPDATE), none lost, none
// invented. wantTxns, if not negative, is the number of transactions the
// workload committed.
func assertAppliedOnce(t *testing.T, db *testDB, wantTxns int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	summary, problems, err := appliedOnceProblems(ctx, db, wantTxns)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("applied-once proof: " + summary)
	for _, p := range problems {
		t.Error(p)
	}
}

// appliedOnceProblems is the check behind assertAppliedOnce: a summary of
// the figures and one message per violation.
func appliedOnceProblems(ctx context.Context, db *testDB, wantTxns int64) (summary string, problems []string, err error) {
	blue, err := connect(ctx, db.BlueDSN)
	if err != nil {
		return "", nil, err
	}
	defer blue.Close(ctx)
	green, err := connect(ctx, db.GreenDSN)
	if err != nil {
		return "", nil, err
	}
	defer green.Close(ctx)
	blueXids, err := queryInt64s(ctx, blue, `SELECT xid FROM txlog ORDER BY xid`)
	if err != nil {
		return "", nil, err
	}
	var total, distinct, notInsert int64
	if err := green.QueryRow(ctx, `SELECT count(*), count(DISTINCT xid), count(*) FILTER (WHERE op <> 'INSERT') FROM applied_log`).Scan(&total, &distinct, &notInsert); err != nil {
		return "", nil, err
	}
	summary = fmt.Sprintf("blue txlog %d transactions; green applied_log %d rows, %d distinct xids, %d non-INSERT",
		len(blueXids), total, distinct, notInsert)
	if wantTxns >= 0 && int64(len(blueXids)) != wantTxns {
		problems = append(problems, fmt.Sprintf("blue txlog has %d rows, but the workload committed %d transactions", len(blueXids), wantTxns))
	}
	if total != distinct || notInsert != 0 {
		rows, err := green.Query(ctx, `SELECT xid::text || ': ' || count(*) || ' times ' || array_agg(op ORDER BY seq)::text
			FROM applied_log GROUP BY xid HAVING count(*) > 1 OR bool_or(op <> 'INSERT') ORDER BY xid LIMIT 10`)
		if err != nil {
			return "", nil, err
		}
		dups, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return "", nil, err
		}
		problems = append(problems, fmt.Sprintf("source transactions applied more than once on green (%d applications of %d distinct xids, %d as UPDATE); first ones:\n  %s",
			total, distinct, notInsert, strings.Join(dups, "\n  ")))
	}
	greenXids, err := queryInt64s(ctx, green, `SELECT DISTINCT xid FROM applied_log ORDER BY xid`)
	if err != nil {
		return "", nil, err
	}
	lost, invented := setDiff(blueXids, greenXids), setDiff(greenXids, blueXids)
	if len(lost) > 0 {
		problems = append(problems, fmt.Sprintf("%d source transactions never applied on green; first xids: %v", len(lost), lost[:min(10, len(lost))]))
	}
	if len(invented) > 0 {
		problems = append(problems, fmt.Sprintf("green applied %d transactions that blue's txlog does not have; first xids: %v", len(invented), invented[:min(10, len(invented))]))
	}
	return summary, problems, nil
}

func queryInt64s(ctx context.Context, conn *pgx.Conn, q string) ([]int64, error) {
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// setDiff returns the elements of sorted a not in sorted b.
func setDiff(a, b []int64) []int64 {
	var out []int64
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}
