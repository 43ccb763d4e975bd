package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The binlog-pair tests use one small schema whose types differ by engine:
// DATETIME(6) ↔ timestamptz, TINYINT(1) ↔ boolean, JSON ↔ jsonb,
// DECIMAL(12,2) ↔ numeric(12,2), INT UNSIGNED ↔ bigint, BLOB ↔ bytea.
// "{s}" stands for the schema (PostgreSQL) or database (MariaDB) the
// tables live in; both sides of a pair use the same name.
var itemsDDL = map[string][]string{
	engineMy: {
		`CREATE TABLE {s}.items (
	id       BIGINT PRIMARY KEY,
	qty      INT UNSIGNED NOT NULL,
	price    DECIMAL(12,2),
	flag     TINYINT(1),
	happened DATETIME(6),
	doc      JSON,
	note     VARCHAR(200) CHARACTER SET utf8mb4,
	payload  BLOB
)`,
		`CREATE TABLE {s}.txlog (txn BIGINT PRIMARY KEY, side VARCHAR(5) NOT NULL)`,
		`CREATE TABLE {s}.applied_log (n BIGINT AUTO_INCREMENT PRIMARY KEY, txn BIGINT NOT NULL, side VARCHAR(5) NOT NULL, op VARCHAR(10) NOT NULL)`,
		`CREATE TRIGGER {s}.txlog_ins AFTER INSERT ON {s}.txlog FOR EACH ROW INSERT INTO {s}.applied_log (txn, side, op) VALUES (NEW.txn, NEW.side, 'INSERT')`,
		`CREATE TRIGGER {s}.txlog_upd AFTER UPDATE ON {s}.txlog FOR EACH ROW INSERT INTO {s}.applied_log (txn, side, op) VALUES (NEW.txn, NEW.side, 'UPDATE')`,
	},
	enginePG: {
		`CREATE TABLE {s}.items (
	id       bigint PRIMARY KEY,
	qty      bigint NOT NULL,
	price    numeric(12,2),
	flag     boolean,
	happened timestamptz,
	doc      jsonb,
	note     varchar(200),
	payload  bytea
)`,
		`CREATE TABLE {s}.txlog (txn bigint PRIMARY KEY, side text NOT NULL)`,
		`CREATE TABLE {s}.applied_log (n bigserial PRIMARY KEY, txn bigint NOT NULL, side text NOT NULL, op text NOT NULL)`,
		`CREATE FUNCTION {s}.record_applied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO {s}.applied_log (txn, side, op) VALUES (NEW.txn, NEW.side, TG_OP);
	RETURN NULL;
END $$`,
		`CREATE TRIGGER txlog_applied AFTER INSERT OR UPDATE ON {s}.txlog FOR EACH ROW EXECUTE FUNCTION {s}.record_applied()`,
		`ALTER TABLE {s}.txlog ENABLE ALWAYS TRIGGER txlog_applied`,
	},
}

// itemsSelect reads items as comparable text on each engine: times in UTC
// to the microsecond, booleans as 0/1, bytes as upper-case hex; JSON is
// normalised in Go (normJSON).
var itemsSelect = map[string]string{
	engineMy: `SELECT id, qty, price, flag, DATE_FORMAT(happened, '%Y-%m-%d %H:%i:%s.%f'), doc, note, HEX(payload) FROM items ORDER BY id`,
	enginePG: `SELECT id, qty, price, flag::int, to_char(happened AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), doc::text, note, upper(encode(payload, 'hex')) FROM items ORDER BY id`,
}

const itemsDocCol = 5

// item is one row of items, written as each engine's literals.
type item struct {
	id, qty  int64
	price    string // "" = NULL
	flag     int    // -1 = NULL
	happened time.Time
	doc      string
	note     string
	payload  []byte
}

func (it item) values(engine string) string {
	lit := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	price := "NULL"
	if it.price != "" {
		price = it.price
	}
	flag := "NULL"
	switch {
	case it.flag >= 0 && engine == engineMy:
		flag = fmt.Sprint(it.flag)
	case it.flag >= 0:
		flag = map[int]string{0: "false", 1: "true"}[it.flag]
	}
	ts := it.happened.UTC().Format("2006-01-02 15:04:05.000000")
	payload := "X'" + fmt.Sprintf("%X", it.payload) + "'"
	if engine == enginePG {
		ts += "+00"
		payload = `'\x` + fmt.Sprintf("%x", it.payload) + `'::bytea`
	}
	return fmt.Sprintf("(%d, %d, %s, %s, %s, %s, %s, %s)", it.id, it.qty, price, flag, lit(ts), lit(it.doc), lit(it.note), payload)
}

// binlogWorkload writes transactions of inserts, updates and deletes into
// items on one side, each with a txlog row naming it.
type binlogWorkload struct {
	r    *rand.Rand
	side string
	next int64 // next id to insert
	ids  []int64
	txns int64
	base int64 // txn numbers start here
}

func newBinlogWorkload(seed uint64, side string, firstID, firstTxn int64) *binlogWorkload {
	return &binlogWorkload{r: newRand(seed), side: side, next: firstID, base: firstTxn}
}

func (w *binlogWorkload) newItem() item {
	id := w.next
	w.next++
	w.ids = append(w.ids, id)
	notes := []string{"plain", "naïve café", "emoji 🚀 ok", "quote ' and \\ backslash", ""}
	return item{
		id:       id,
		qty:      w.r.Int64N(4_000_000_000),
		price:    fmt.Sprintf("%d.%02d", w.r.IntN(1_000_000), w.r.IntN(100)),
		flag:     w.r.IntN(3) - 1,
		happened: time.Date(2020+w.r.IntN(6), time.Month(1+w.r.IntN(12)), 1+w.r.IntN(28), w.r.IntN(24), w.r.IntN(60), w.r.IntN(60), w.r.IntN(1_000_000)*1000, time.UTC),
		doc:      fmt.Sprintf(`{"n": %d, "tags": ["a", "b"], "nested": {"ok": true}}`, w.r.IntN(1000)),
		note:     notes[w.r.IntN(len(notes))],
		payload:  []byte{byte(w.r.IntN(256)), 0, byte(w.r.IntN(256)), 0xff},
	}
}

// txn returns the statements of the next transaction on engine.
func (w *binlogWorkload) txn(engine string) []string {
	w.txns++
	var stmts []string
	for n := 1 + w.r.IntN(4); n > 0; n-- {
		switch k := w.r.IntN(10); {
		case k < 5 || len(w.ids) < 10:
			var vals []string
			for m := 1 + w.r.IntN(5); m > 0; m-- {
				vals = append(vals, w.newItem().values(engine))
			}
			stmts = append(stmts, "INSERT INTO items (id, qty, price, flag, happened, doc, note, payload) VALUES "+strings.Join(vals, ", "))
		case k < 7:
			id := w.ids[w.r.IntN(len(w.ids))]
			stmts = append(stmts, fmt.Sprintf("UPDATE items SET qty = %d, note = 'updated %d', price = NULL WHERE id = %d", w.r.Int64N(1000), w.txns, id))
		case k < 8: // the primary key moves
			i := w.r.IntN(len(w.ids))
			stmts = append(stmts, fmt.Sprintf("UPDATE items SET id = %d, note = 'moved from %d' WHERE id = %d", w.next, w.ids[i], w.ids[i]))
			w.ids[i] = w.next
			w.next++
		default:
			i := w.r.IntN(len(w.ids))
			stmts = append(stmts, fmt.Sprintf("DELETE FROM items WHERE id = %d", w.ids[i]))
			w.ids = append(w.ids[:i], w.ids[i+1:]...)
		}
	}
	return append(stmts, fmt.Sprintf("INSERT INTO txlog VALUES (%d, '%s')", w.base+w.txns, w.side))
}

// bulk returns one large transaction: n inserts (1000 rows a statement),
// then one UPDATE of all of them, then its txlog row.
func (w *binlogWorkload) bulk(engine string, n int) []string {
	w.txns++
	first := w.next
	var stmts []string
	for done := 0; done < n; {
		var vals []string
		for ; done < n && len(vals) < 1000; done++ {
			vals = append(vals, w.newItem().values(engine))
		}
		stmts = append(stmts, "INSERT INTO items (id, qty, price, flag, happened, doc, note, payload) VALUES "+strings.Join(vals, ", "))
	}
	stmts = append(stmts, fmt.Sprintf("UPDATE items SET qty = qty + 1, note = 'bulk' WHERE id >= %d AND id < %d", first, w.next))
	return append(stmts, fmt.Sprintf("INSERT INTO txlog VALUES (%d, '%s')", w.base+w.txns, w.side))
}

// script commits the suite's workload on db: half of n small
// transactions, one bulk transaction of bulkRows rows (none if 0), a
// quarter, a TRUNCATE of items if truncate (a one-way sync: both ways it
// would empty the other side's rows too), and the last quarter.
func (w *binlogWorkload) script(ctx context.Context, db *sideDB, n, bulkRows int, truncate bool, pace time.Duration) error {
	if err := w.run(ctx, db, n/2, pace); err != nil {
		return err
	}
	if bulkRows > 0 {
		if err := db.tx(ctx, w.bulk(db.engine, bulkRows)...); err != nil {
			return err
		}
	}
	if err := w.run(ctx, db, n/4, pace); err != nil {
		return err
	}
	if truncate {
		// Alone: MariaDB commits around a TRUNCATE.
		if err := db.tx(ctx, "TRUNCATE TABLE items"); err != nil {
			return err
		}
		w.ids = nil
	}
	return w.run(ctx, db, n-n/2-n/4, pace)
}

// run commits n transactions on db, pausing pace between them.
func (w *binlogWorkload) run(ctx context.Context, db *sideDB, n int, pace time.Duration) error {
	for range n {
		if err := db.tx(ctx, w.txn(db.engine)...); err != nil {
			return err
		}
		if pace > 0 {
			time.Sleep(pace)
		}
	}
	return nil
}

// itemsText reads items on db as comparable text.
func itemsText(ctx context.Context, db *sideDB) ([]string, error) {
	rows, err := db.rows(ctx, itemsSelect[db.engine])
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		r[itemsDocCol] = normJSON(r[itemsDocCol])
		out[i] = strings.Join(r, "|")
	}
	return out, nil
}

// normJSON re-encodes JSON text with sorted keys and no spaces.
func normJSON(s string) string {
	var v any
	if s == "∅" || json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// waitItemsEqual polls until items and txlog are equal on both sides.
func waitItemsEqual(t *testing.T, blue, green *sideDB, timeout time.Duration, alive func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		if err := alive(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		diff, err := itemsDiff(ctx, blue, green)
		cancel()
		if err == nil && diff == "" {
			return
		}
		if err != nil {
			last = err.Error()
		} else {
			last = diff
		}
		if time.Now().After(deadline) {
			t.Fatalf("blue and green still differ after %s: %s", timeout, last)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// itemsDiff describes how items and txlog differ, "" when they are equal.
func itemsDiff(ctx context.Context, blue, green *sideDB) (string, error) {
	b, err := itemsText(ctx, blue)
	if err != nil {
		return "", err
	}
	g, err := itemsText(ctx, green)
	if err != nil {
		return "", err
	}
	bt, err := blue.rows(ctx, "SELECT txn, side FROM txlog ORDER BY txn")
	if err != nil {
		return "", err
	}
	gt, err := green.rows(ctx, "SELECT txn, side FROM txlog ORDER BY txn")
	if err != nil {
		return "", err
	}
	if len(bt) != len(gt) {
		return fmt.Sprintf("txlog: %d rows on blue, %d on green", len(bt), len(gt)), nil
	}
	if len(b) != len(g) {
		return fmt.Sprintf("items: %d rows on blue, %d on green", len(b), len(g)), nil
	}
	for i := range b {
		if b[i] != g[i] {
			return fmt.Sprintf("items row %d differs:\n  blue  %s\n  green %s", i, b[i], g[i]), nil
		}
	}
	return "", nil
}

// assertAppliedOnceOn checks, on target, that every transaction of the
// side from made was applied exactly once: one INSERT in applied_log per
// txlog row of that side, none twice, none as an UPDATE.
func assertAppliedOnceOn(t *testing.T, target *sideDB, from string, want int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	q := fmt.Sprintf(`SELECT count(*), count(DISTINCT txn), sum(CASE WHEN op <> 'INSERT' THEN 1 ELSE 0 END) FROM applied_log WHERE side = '%s'`, from)
	r, err := target.rows(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	got := r[0]
	t.Logf("applied-once proof on %s: %s's %d transactions; applied_log %s rows, %s distinct, %s non-INSERT", target.side, from, want, got[0], got[1], got[2])
	if got[0] != fmt.Sprint(want) || got[1] != fmt.Sprint(want) || (got[2] != "0" && got[2] != "∅") {
		t.Errorf("%s applied %s's transactions %s times (%s distinct, %s as UPDATE), want each of %d exactly once", target.side, from, got[0], got[1], got[2], want)
	}
}
