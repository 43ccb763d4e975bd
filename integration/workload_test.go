package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// workloadSize sets how much the mixed workload does. fullSize is the
// acceptance workload (≥ 200k row changes); scaled shrinks it for the
// tests that only need some traffic.
type workloadSize struct {
	BigTxnRows   int // orders rows inserted by one single transaction
	InsertTxns   int // further insert transactions of RowsPerTxn rows
	RowsPerTxn   int
	Accounts     int // accounts rows; one in four carries ~4 KB of TOASTed notes
	MixedTxns    int // multi-table transactions
	OrderUpdates int // orders rows updated (in RowsPerTxn-row transactions)
	PKUpdates    int // orders rows whose primary key changes
	Deletes      int // orders rows deleted
}

func fullSize() workloadSize {
	return workloadSize{
		BigTxnRows:   100_000,
		InsertTxns:   60,
		RowsPerTxn:   1000,
		Accounts:     4000,
		MixedTxns:    200,
		OrderUpdates: 16_000,
		PKUpdates:    5000,
		Deletes:      8000,
	}
}

// scaled returns s with every count multiplied by f (at least 1 each),
// and further by BGSYNC_IT_SCALE if set.
func (s workloadSize) scaled(f float64) workloadSize {
	if v, err := strconv.ParseFloat(os.Getenv("BGSYNC_IT_SCALE"), 64); err == nil && v > 0 {
		f *= v
	}
	m := func(n int) int { return max(1, int(float64(n)*f)) }
	return workloadSize{
		BigTxnRows:   m(s.BigTxnRows),
		InsertTxns:   m(s.InsertTxns),
		RowsPerTxn:   s.RowsPerTxn,
		Accounts:     max(8, m(s.Accounts)),
		MixedTxns:    m(s.MixedTxns),
		OrderUpdates: m(s.OrderUpdates),
		PKUpdates:    m(s.PKUpdates),
		Deletes:      m(s.Deletes),
	}
}

// workload is the deterministic mixed workload run on blue. The same seed
// and size give the same SQL, statement for statement, as long as its
// steps run in order.
type workload struct {
	seed uint64
	size workloadSize
	r    *rand.Rand
	// Pace, if set, is a pause after every transaction, to spread the
	// workload over time (so that crashes and restarts land inside it).
	Pace time.Duration

	nextOrder, nextAccount, nextAlltypes, nextAudit int64
	changes, txns                                   int64
	logf                                            func(string, ...any)
}

// newWorkload returns the workload for size, seeded from BGSYNC_IT_SEED or
// the clock; the seed is logged so that a failure can be replayed.
func newWorkload(t *testing.T, size workloadSize) *workload {
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("BGSYNC_IT_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("workload seed %d (replay with BGSYNC_IT_SEED=%d); size %+v", seed, seed, size)
	return newSeededWorkload(t, size, seed)
}

// newSeededWorkload returns the workload for size and seed.
func newSeededWorkload(t *testing.T, size workloadSize, seed uint64) *workload {
	return &workload{
		seed: seed, size: size, r: newRand(seed),
		nextOrder: 1, nextAccount: 1, nextAlltypes: 1000, nextAudit: 1,
		logf: t.Logf,
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// step is one named part of the workload.
type step struct {
	name string
	run  func(ctx context.Context, conn *pgx.Conn) error
}

// steps returns the workload in order. Tests that stop bgsync in between
// run a prefix, then the rest.
func (w *workload) steps() []step {
	return []step{
		{"edge rows of every type", w.edgeRows},
		{"accounts with TOASTed notes", w.insertAccounts},
		{"one transaction of BigTxnRows orders", w.bigTransaction},
		{"1k-row insert transactions", w.insertTransactions},
		{"multi-table transactions", w.mixedTransactions},
		{"updates leaving TOASTed notes untouched", w.updates},
		{"TOASTed value updates", w.toastUpdates},
		{"primary-key updates", w.pkUpdates},
		{"deletes", w.deletes},
		{"truncate and refill", w.truncate},
		{"more multi-table transactions", w.mixedTransactions},
	}
}

// run executes steps on conn (a connection to blue) and logs the figures.
func (w *workload) run(ctx context.Context, conn *pgx.Conn, steps []step) error {
	for _, s := range steps {
		start, c0, t0 := time.Now(), w.changes, w.txns
		if err := s.run(ctx, conn); err != nil {
			return fmt.Errorf("workload step %q: %w", s.name, err)
		}
		w.logf("workload: %-42s %7d row changes in %4d txns, %s", s.name, w.changes-c0, w.txns-t0, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// runAll runs the whole workload on blue, failing the test on error.
func (w *workload) runAll(t *testing.T, ctx context.Context, blueDSN string) {
	t.Helper()
	conn := mustConnect(t, blueDSN)
	start := time.Now()
	if err := w.run(ctx, conn, w.steps()); err != nil {
		t.Fatal(err)
	}
	t.Logf("workload done: %d row changes in %d transactions in %s", w.changes, w.txns, time.Since(start).Round(time.Millisecond))
}

// start runs steps on blue in a goroutine and returns the channel that
// receives its result. At cleanup the workload is cancelled and waited
// for. The workload's counters may be read only after the result came.
func (w *workload) start(t *testing.T, blueDSN string, steps []step) <-chan error {
	t.Helper()
	conn := mustConnect(t, blueDSN)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- w.run(ctx, conn, steps)
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	return done
}

// tx runs stmts in one transaction that also records its xid in txlog.
func (w *workload) tx(ctx context.Context, conn *pgx.Conn, stmts ...string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var n int64
	for _, s := range stmts {
		tag, err := tx.Exec(ctx, s)
		if err != nil {
			return fmt.Errorf("%w\nstatement: %.300s", err, s)
		}
		n += tag.RowsAffected()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO txlog (xid) VALUES (txid_current())`); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	w.changes += n + 1
	w.txns++
	if w.Pace > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(w.Pace):
		}
	}
	return nil
}

// insertSQL builds a multi-row INSERT.
func insertSQL(table string, cols []string, rows [][]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("(" + strings.Join(r, ", ") + ")")
	}
	return b.String()
}

// nullOr returns v, or NULL one time in ten.
func (w *workload) nullOr(v string) string {
	if w.r.IntN(10) == 0 {
		return "NULL"
	}
	return v
}

// --- steps ---

// edgeRows inserts every edge value of every type, a row with each column
// NULL in turn, and a row of NULLs only.
func (w *workload) edgeRows(ctx context.Context, conn *pgx.Conn) error {
	cols := append([]string{"id"}, alltypesColumns...)
	var rows [][]string
	id := int64(1)
	for i := range edgeRowCount() {
		rows = append(rows, append([]string{fmt.Sprint(id)}, edgeRow(i, -1)...))
		id++
	}
	for c := range alltypesColumns {
		rows = append(rows, append([]string{fmt.Sprint(id)}, edgeRow(c, c)...))
		id++
	}
	nulls := make([]string, len(alltypesColumns))
	for i := range nulls {
		nulls[i] = "NULL"
	}
	rows = append(rows, append([]string{fmt.Sprint(id)}, nulls...))
	return w.tx(ctx, conn, insertSQL("alltypes", cols, rows))
}

var accountCols = []string{"id", "owner", "email", "balance", "status", "created_at", "flags", "notes"}

func (w *workload) accountRow() []string {
	id := w.nextAccount
	w.nextAccount++
	var notes string
	switch id % 8 {
	case 0, 4:
		notes = lit(bigText(w.r, 4096+w.r.IntN(2048))) // TOASTed
	case 1:
		notes = "NULL"
	case 2:
		notes = "''"
	default:
		notes = lit(randomText(w.r, w.r.IntN(80)))
	}
	return []string{
		fmt.Sprint(id),
		lit(fmt.Sprintf("owner %d %s", id, randomText(w.r, 6))),
		w.nullOr(lit(randomASCII(w.r, 8) + "@example.com")),
		w.nullOr(fmt.Sprintf("%d.%02d", w.r.IntN(1_000_000)-1000, w.r.IntN(100))),
		w.nullOr(lit(enumLabels[w.r.IntN(len(enumLabels))])),
		w.nullOr(fmt.Sprintf("'2024-01-01 00:00:00+00'::timestamptz + '%d microseconds'::interval", w.r.Int64N(3e13))),
		w.nullOr(randomValue(w.r, "c_int4_arr")),
		notes,
	}
}

func (w *workload) insertAccounts(ctx context.Context, conn *pgx.Conn) error {
	for done := 0; done < w.size.Accounts; {
		n := min(w.size.RowsPerTxn, w.size.Accounts-done)
		rows := make([][]string, n)
		for i := range rows {
			rows[i] = w.accountRow()
		}
		if err := w.tx(ctx, conn, insertSQL("accounts", accountCols, rows)); err != nil {
			return err
		}
		done += n
	}
	return nil
}

var orderCols = []string{"id", "account_id", "amount", "qty", "status", "placed_at", "note", "tags"}

func (w *workload) orderRow() []string {
	id := w.nextOrder
	w.nextOrder++
	note := "NULL"
	switch w.r.IntN(4) {
	case 0:
		note = "''"
	case 1, 2:
		note = lit(randomText(w.r, 5+w.r.IntN(40)))
	}
	return []string{
		fmt.Sprint(id),
		w.nullOr(fmt.Sprint(1 + w.r.Int64N(max(1, w.nextAccount-1)))),
		w.nullOr(fmt.Sprintf("%d.%02d", w.r.IntN(100_000), w.r.IntN(100))),
		w.nullOr(fmt.Sprint(w.r.IntN(100))),
		w.nullOr(lit(enumLabels[w.r.IntN(len(enumLabels))])),
		w.nullOr(fmt.Sprintf("'2020-01-01 00:00:00+00'::timestamptz + '%d microseconds'::interval", w.r.Int64N(2e14))),
		note,
		w.nullOr(randomValue(w.r, "c_text_arr")),
	}
}

func (w *workload) orderRows(n int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = w.orderRow()
	}
	return rows
}

// bigTransaction inserts BigTxnRows orders in one transaction.
func (w *workload) bigTransaction(ctx context.Context, conn *pgx.Conn) error {
	var stmts []string
	for done := 0; done < w.size.BigTxnRows; {
		n := min(1000, w.size.BigTxnRows-done)
		stmts = append(stmts, insertSQL("orders", orderCols, w.orderRows(n)))
		done += n
	}
	return w.tx(ctx, conn, stmts...)
}

var lineCols = []string{"order_id", "line_no", "sku", "price", "qty"}

func (w *workload) lineRows(orderID int64, n int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{
			fmt.Sprint(orderID), fmt.Sprint(i + 1),
			w.nullOr(lit("SKU-" + randomASCII(w.r, 6))),
			w.nullOr(fmt.Sprintf("%d.%02d", w.r.IntN(10_000), w.r.IntN(100))),
			w.nullOr(fmt.Sprint(w.r.IntN(200) - 100)),
		}
	}
	return rows
}

func (w *workload) alltypesRows(n int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = append([]string{fmt.Sprint(w.nextAlltypes)}, randomAlltypesRow(w.r)...)
		w.nextAlltypes++
	}
	return rows
}

// insertTransactions runs InsertTxns transactions of RowsPerTxn rows,
// rotating over orders, order_lines and alltypes.
func (w *workload) insertTransactions(ctx context.Context, conn *pgx.Conn) error {
	cols := append([]string{"id"}, alltypesColumns...)
	for i := range w.size.InsertTxns {
		var stmt string
		switch i % 3 {
		case 0:
			stmt = insertSQL("orders", orderCols, w.orderRows(w.size.RowsPerTxn))
		case 1:
			// Five lines for each of the next RowsPerTxn/5 orders, which
			// are inserted in the same statement's transaction first.
			n := max(1, w.size.RowsPerTxn/5)
			first := w.nextOrder
			var lines [][]string
			orders := w.orderRows(n)
			for o := range int64(n) {
				lines = append(lines, w.lineRows(first+o, 5)...)
			}
			if err := w.tx(ctx, conn, insertSQL("orders", orderCols, orders), insertSQL("order_lines", lineCols, lines)); err != nil {
				return err
			}
			continue
		case 2:
			stmt = insertSQL("alltypes", cols, w.alltypesRows(w.size.RowsPerTxn))
		}
		if err := w.tx(ctx, conn, stmt); err != nil {
			return err
		}
	}
	return nil
}

// mixedTransactions touches several tables per transaction.
func (w *workload) mixedTransactions(ctx context.Context, conn *pgx.Conn) error {
	cols := append([]string{"id"}, alltypesColumns...)
	for range w.size.MixedTxns {
		var stmts []string
		stmts = append(stmts, insertSQL("accounts", accountCols, [][]string{w.accountRow()}))
		for range 1 + w.r.IntN(3) {
			id := w.nextOrder
			stmts = append(stmts, insertSQL("orders", orderCols, w.orderRows(1)),
				insertSQL("order_lines", lineCols, w.lineRows(id, 1+w.r.IntN(5))))
		}
		acct := 1 + w.r.Int64N(w.nextAccount-1)
		stmts = append(stmts,
			fmt.Sprintf("UPDATE accounts SET balance = coalesce(balance, 0) + %d.%02d WHERE id = %d", w.r.IntN(100), w.r.IntN(100), acct),
			fmt.Sprintf("UPDATE alltypes SET c_int8 = coalesce(c_int8, 0) / 2 + %d, c_text = %s WHERE id = %d",
				w.r.IntN(1000), w.nullOr(lit(randomText(w.r, 12))), 1000+w.r.Int64N(max(1, w.nextAlltypes-1000))),
			insertSQL("audit", []string{"id", "at", "msg"}, [][]string{{fmt.Sprint(w.nextAudit), w.nullOr(fmt.Sprintf("'2024-06-01 10:00:00.%06d+00'", w.r.IntN(1e6))), lit(randomText(w.r, 20))}}),
		)
		w.nextAudit++
		if w.r.IntN(10) == 0 {
			stmts = append(stmts, insertSQL("alltypes", cols, w.alltypesRows(1)))
		}
		if err := w.tx(ctx, conn, stmts...); err != nil {
			return err
		}
	}
	return nil
}

// updates changes rows without touching accounts.notes: green must keep
// the TOASTed values it has.
func (w *workload) updates(ctx context.Context, conn *pgx.Conn) error {
	step := int64(w.size.RowsPerTxn)
	for lo := int64(1); lo < w.nextAccount; lo += step {
		if err := w.tx(ctx, conn, fmt.Sprintf(
			"UPDATE accounts SET balance = coalesce(balance, 0) + %d.%02d, status = %s, flags = %s WHERE id BETWEEN %d AND %d",
			w.r.IntN(50), w.r.IntN(100), w.nullOr(lit(enumLabels[w.r.IntN(len(enumLabels))])), randomValue(w.r, "c_int4_arr"), lo, lo+step-1)); err != nil {
			return err
		}
	}
	for done := 0; done < w.size.OrderUpdates; done += int(step) {
		lo := 1 + w.r.Int64N(max(1, w.nextOrder-step))
		if err := w.tx(ctx, conn, fmt.Sprintf(
			"UPDATE orders SET amount = amount * 1.1, qty = qty + 1, note = CASE WHEN id %% 3 = 0 THEN NULL ELSE coalesce(note, '') || %s END WHERE id BETWEEN %d AND %d",
			lit(randomText(w.r, 3)), lo, lo+step-1)); err != nil {
			return err
		}
	}
	// Every alltypes column set to a fresh value, to an edge value and to
	// NULL in turn, on a sample of rows.
	for c, col := range alltypesColumns {
		lo := 1000 + w.r.Int64N(max(1, w.nextAlltypes-1000))
		vs := edgeValues[col]
		if err := w.tx(ctx, conn,
			fmt.Sprintf("UPDATE alltypes SET %s = %s WHERE id BETWEEN %d AND %d", col, randomValue(w.r, col), lo, lo+20),
			fmt.Sprintf("UPDATE alltypes SET %s = %s WHERE id BETWEEN %d AND %d", col, vs[w.r.IntN(len(vs))], lo+21, lo+30),
			fmt.Sprintf("UPDATE alltypes SET %s = NULL WHERE id %% %d = 0", col, 37+c),
		); err != nil {
			return err
		}
	}
	return nil
}

// toastUpdates replaces, removes and empties TOASTed values.
func (w *workload) toastUpdates(ctx context.Context, conn *pgx.Conn) error {
	var stmts []string
	for i := range 40 {
		id := 1 + w.r.Int64N(w.nextAccount-1)
		switch i % 4 {
		case 0, 1:
			stmts = append(stmts, fmt.Sprintf("UPDATE accounts SET notes = %s WHERE id = %d", lit(bigText(w.r, 5000)), id))
		case 2:
			stmts = append(stmts, fmt.Sprintf("UPDATE accounts SET notes = NULL WHERE id = %d", id))
		case 3:
			stmts = append(stmts, fmt.Sprintf("UPDATE accounts SET notes = '' WHERE id = %d", id))
		}
	}
	// An update of a TOASTed row that touches another column in the same
	// transaction as a TOAST rewrite of a different row.
	stmts = append(stmts, fmt.Sprintf("UPDATE accounts SET owner = owner || ' (renamed)' WHERE id %% 8 = 0 AND id < %d", 1+w.nextAccount/2))
	return w.tx(ctx, conn, stmts...)
}

// pkUpdates changes primary keys, including on rows with TOASTed values
// that the update leaves untouched.
func (w *workload) pkUpdates(ctx context.Context, conn *pgx.Conn) error {
	step := int64(w.size.RowsPerTxn)
	for done := 0; done < w.size.PKUpdates; done += int(step) {
		lo := 1 + w.r.Int64N(max(1, w.nextOrder-step))
		if err := w.tx(ctx, conn, fmt.Sprintf(
			"UPDATE orders SET id = id + 1000000 WHERE id BETWEEN %d AND %d AND id < 1000000", lo, lo+step-1)); err != nil {
			return err
		}
	}
	n := max(4, w.nextAccount/20)
	return w.tx(ctx, conn,
		fmt.Sprintf("UPDATE accounts SET id = id + 1000000 WHERE id BETWEEN 1 AND %d", n),
		fmt.Sprintf("UPDATE accounts SET id = id + 2000000, balance = 0 WHERE id BETWEEN %d AND %d", n+1, 2*n),
		"UPDATE order_lines SET line_no = line_no + 100 WHERE order_id IN (SELECT order_id FROM order_lines ORDER BY order_id LIMIT 100)",
		"UPDATE alltypes SET id = -id WHERE id < 1000 OR id % 97 = 0",
	)
}

// deletes removes ranges of rows from every table but txlog.
func (w *workload) deletes(ctx context.Context, conn *pgx.Conn) error {
	step := int64(w.size.RowsPerTxn)
	for done := 0; done < w.size.Deletes; done += int(step) {
		lo := 1 + w.r.Int64N(max(1, w.nextOrder-step))
		if err := w.tx(ctx, conn,
			fmt.Sprintf("DELETE FROM orders WHERE id BETWEEN %d AND %d", lo, lo+step-1),
			fmt.Sprintf("DELETE FROM order_lines WHERE order_id BETWEEN %d AND %d AND line_no %% 2 = 0", lo, lo+step-1),
		); err != nil {
			return err
		}
	}
	return w.tx(ctx, conn,
		"DELETE FROM accounts WHERE id % 16 = 0 OR id % 13 = 5", // TOASTed rows among them
		"DELETE FROM orders WHERE id > 1000000 AND id % 7 = 0",
		"DELETE FROM alltypes WHERE id % 23 = 0",
	)
}

// truncate empties audit (alone and with inserts in the same
// transaction) and refills it.
func (w *workload) truncate(ctx context.Context, conn *pgx.Conn) error {
	auditRows := func(n int) [][]string {
		rows := make([][]string, n)
		for i := range rows {
			rows[i] = []string{fmt.Sprint(w.nextAudit), w.nullOr("'2024-07-01 12:00:00+02'"), w.nullOr(lit(randomText(w.r, 15)))}
			w.nextAudit++
		}
		return rows
	}
	cols := []string{"id", "at", "msg"}
	if err := w.tx(ctx, conn, "TRUNCATE audit", insertSQL("audit", cols, auditRows(50))); err != nil {
		return err
	}
	if err := w.tx(ctx, conn, insertSQL("audit", cols, auditRows(100))); err != nil {
		return err
	}
	if err := w.tx(ctx, conn, "TRUNCATE TABLE audit"); err != nil {
		return err
	}
	return w.tx(ctx, conn, insertSQL("audit", cols, auditRows(20)))
}
