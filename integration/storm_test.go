package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// stormKeys is the key range both sides write: small enough that the two
// sides keep writing the same rows at the same moments. With bgsync's lag
// at a few milliseconds, 2000 keys gave as few as zero conflicts in a
// minute; 500 gives dozens.
const stormKeys = 500

// stormDDL is the storm table on each engine. updated_at is stamped by
// every write: it is last-writer-wins' timestamp column where a side is
// MariaDB (which records no commit time per row); between two PostgreSQL
// sides the commit times decide and it is just compared.
var stormDDL = map[string][]string{
	enginePG: {`CREATE TABLE {s}.storm (id int PRIMARY KEY, a text NOT NULL, b int NOT NULL, note text, updated_at timestamp(6) NOT NULL)`},
	engineMy: {`CREATE TABLE {s}.storm (id INT PRIMARY KEY, a VARCHAR(100) NOT NULL, b INT NOT NULL, note VARCHAR(100), updated_at DATETIME(6) NOT NULL)`},
}

// stormSelect reads the storm rows as comparable text on each engine.
var stormSelect = map[string]string{
	enginePG: `SELECT id, a, b, note, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS.US') FROM storm`,
	engineMy: `SELECT id, a, b, note, DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f') FROM storm`,
}

// stormDuration is how long the writers run: BGSYNC_IT_STORM, default 30s.
func stormDuration(t *testing.T) time.Duration {
	if v := os.Getenv("BGSYNC_IT_STORM"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("BGSYNC_IT_STORM=%q: %v", v, err)
		}
		return d
	}
	return 30 * time.Second
}

// stormEnv is a two-direction sync of the storm table between an engine
// pair.
type stormEnv struct {
	*binlogEnv
	pair enginePair
	name string // bgsync's schema (database) on each side
}

func newStormEnv(t *testing.T, p enginePair, policy string) *stormEnv {
	cfg := itConfig{Directions: "both", Policy: policy}
	if p.hasMy() && policy == "last-writer-wins" {
		cfg.TimestampColumn = "updated_at"
	}
	e := newPairEnv(t, "storm_"+p.name, p, stormDDL, cfg, "storm")
	e.setup()
	return &stormEnv{binlogEnv: e, pair: p, name: e.cfg.Name}
}

// stormStats counts what the writers did.
type stormStats struct{ txns, failed atomic.Int64 }

// storm runs writers on both sides until ctx ends: each commits random
// transactions of one to three inserts, updates and deletes on random keys
// of the shared range, at about perWorker transactions per second.
func (e *stormEnv) storm(ctx context.Context, workers int, perWorker int, seed uint64, deletes bool) (*stormStats, <-chan error) {
	st := &stormStats{}
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for _, s := range []*sideDB{e.blue, e.green} {
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := stormWriter(ctx, s, perWorker, seed+uint64(w)*7919+uint64(len(s.side)), deletes, st); err != nil {
					select {
					case errc <- fmt.Errorf("%s writer %d: %w", s.side, w, err):
					default:
					}
				}
			}()
		}
	}
	done := make(chan error, 1)
	go func() {
		wg.Wait()
		select {
		case err := <-errc:
			done <- err
		default:
			done <- nil
		}
	}()
	return st, done
}

// stormOp is one statement of a storm transaction.
type stormOp struct {
	kind  byte // 'i' upsert, 'u' update, 'd' delete
	id, b int
	text  string
	at    time.Time
}

// sql returns op as a statement and arguments on engine, against table t.
func (op stormOp) sql(engine, t string) (string, []any) {
	my := engine == engineMy
	switch {
	case op.kind == 'i' && my:
		return "INSERT INTO " + t + " (id, a, b, updated_at) VALUES (?, ?, ?, ?) " +
			"ON DUPLICATE KEY UPDATE a = VALUES(a), b = b + 1, updated_at = VALUES(updated_at)", []any{op.id, op.text, op.b, op.at}
	case op.kind == 'i':
		return "INSERT INTO " + t + " AS t (id, a, b, updated_at) VALUES ($1, $2, $3, $4) " +
			"ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, b = t.b + 1, updated_at = EXCLUDED.updated_at", []any{op.id, op.text, op.b, op.at}
	case op.kind == 'u' && my:
		return "UPDATE " + t + " SET b = b + ?, note = ?, updated_at = ? WHERE id = ?", []any{op.b, op.text, op.at, op.id}
	case op.kind == 'u':
		return "UPDATE " + t + " SET b = b + $1, note = $2, updated_at = $3 WHERE id = $4", []any{op.b, op.text, op.at, op.id}
	case my:
		return "DELETE FROM " + t + " WHERE id = ?", []any{op.id}
	default:
		return "DELETE FROM " + t + " WHERE id = $1", []any{op.id}
	}
}

// stormWriter commits storm transactions on s until ctx ends, each on its
// own connection as an application's would be.
func stormWriter(ctx context.Context, s *sideDB, perSec int, seed uint64, deletes bool, st *stormStats) error {
	run, closeConn, err := s.txnRunner(ctx)
	if err != nil {
		return err
	}
	defer closeConn()
	table := s.table("storm")
	r := newRand(seed)
	tick := time.NewTicker(time.Second / time.Duration(perSec))
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		var ops []stormOp
		for i := 1 + r.IntN(3); i > 0; i-- {
			op := stormOp{id: 1 + r.IntN(stormKeys), at: time.Now().UTC().Truncate(time.Microsecond)}
			k := r.IntN(10)
			if !deletes {
				k %= 8
			}
			switch {
			case k < 4:
				op.kind, op.text, op.b = 'i', fmt.Sprintf("%s-%d-%d", s.side, seed%1000, n), r.IntN(1000)
			case k < 8:
				op.kind, op.text, op.b = 'u', fmt.Sprintf("%s %d", s.side, n), 1+r.IntN(9)
			default:
				op.kind = 'd'
			}
			ops = append(ops, op)
		}
		err := run(ctx, func(exec func(string, ...any) error) error {
			for _, op := range ops {
				q, args := op.sql(s.engine, table)
				if err := exec(q, args...); err != nil {
					return err
				}
			}
			return nil
		})
		switch {
		case err == nil:
			st.txns.Add(1)
		case ctx.Err() != nil:
			return nil
		case isRetryable(err):
			st.failed.Add(1) // two writers on one side raced (deadlock, unique key): as an application would see
		default:
			return err
		}
	}
}

// isRetryable: a race between two writers of one side (deadlock,
// serialization, lock wait, duplicate key), which the application sees
// and bgsync has no part in.
func isRetryable(err error) bool {
	var pe *pgconn.PgError
	var me *mysql.MySQLError
	switch {
	case errors.As(err, &pe):
		return pe.Code == "40P01" || pe.Code == "40001" || pe.Code == "23505"
	case errors.As(err, &me):
		return me.Number == 1213 || me.Number == 1205 || me.Number == 1062
	}
	return false
}

// stormRows returns every storm row of a side, by id.
func stormRows(ctx context.Context, s *sideDB) (map[string]string, error) {
	rows, err := s.rows(ctx, strings.Replace(stormSelect[s.engine], "FROM storm", "FROM "+s.table("storm"), 1))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r[0]] = strings.Join(r, "|")
	}
	return out, nil
}

// settle waits until neither side's rows nor conflict log change for three
// polls in a row (the sync has drained), and returns the last difference.
func (e *stormEnv) settle(ctx context.Context, timeout time.Duration) []string {
	t := e.t
	deadline := time.Now().Add(timeout)
	last, stable := "", 0
	var diff []string
	for time.Now().Before(deadline) {
		b, err1 := stormRows(ctx, e.blue)
		g, err2 := stormRows(ctx, e.green)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		diff = diffKeys(b, g)
		n := e.conflicts(ctx, "")
		sig := fmt.Sprintf("%d/%d/%d/%v", len(b), len(g), n, diff)
		if sig == last {
			stable++
			if stable >= 3 {
				return diff
			}
		} else {
			last, stable = sig, 0
		}
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("the sides did not settle within %s; %d keys differ", timeout, len(diff))
	return nil
}

// conflicts counts logged conflicts on both sides matching where (SQL
// both engines read alike).
func (e *stormEnv) conflicts(ctx context.Context, where string) int64 {
	q := `SELECT count(*) FROM ` + e.name + `.conflicts`
	if where != "" {
		q += " WHERE " + where
	}
	var total int64
	for _, s := range []*sideDB{e.blue, e.green} {
		n, err := s.count(ctx, q)
		if err != nil {
			e.t.Fatal(err)
		}
		total += n
	}
	return total
}

// explainDiff logs, for each of keys (ids that differ after a storm), the
// row on each side and every conflict either side logged for it, in
// order: what a divergence is found from.
func (e *stormEnv) explainDiff(keys []string) {
	ctx := context.Background()
	for _, k := range keys {
		for _, s := range []*sideDB{e.blue, e.green} {
			rows, err := stormRows(ctx, s)
			if err != nil {
				e.t.Fatal(err)
			}
			id, ts, img := `key->>'id'`, "to_char(%s, 'HH24:MI:SS.US')", "%s::text"
			if s.engine == engineMy {
				id, ts, img = "JSON_UNQUOTE(JSON_EXTRACT(`key`, '$.id'))", "DATE_FORMAT(%s, '%%H:%%i:%%s.%%f')", "%s"
			}
			q := "SELECT id, kind, resolution, " + fmt.Sprintf(ts, "incoming_commit_time") + ", " + fmt.Sprintf(ts, "target_commit_time") +
				", " + fmt.Sprintf(img, "incoming_before") + ", " + fmt.Sprintf(img, "incoming_after") + ", " + fmt.Sprintf(img, "target_row") +
				", source_position FROM " + e.name + ".conflicts WHERE " + id + " = '" + k + "' ORDER BY id"
			conflicts, err := s.rows(ctx, q)
			if err != nil {
				e.t.Fatal(err)
			}
			// The application's column write times (column-merge).
			q = "SELECT e.key || '@' || to_char(" + e.name + ".xact_time(e.value::xid8), 'HH24:MI:SS.US') FROM " + e.name +
				".column_writes w, jsonb_each_text(w.cols) e WHERE w.key = '{\"id\": " + k + "}' ORDER BY 1"
			if s.engine == engineMy {
				q = "SELECT CONCAT(column_name, '@', DATE_FORMAT(written_at, '%H:%i:%s.%f')) FROM " + e.name +
					".column_writes WHERE key_hash = UNHEX(SHA2('" + fmt.Sprintf("%d:%s", len(k), k) + "', 256)) ORDER BY 1"
			}
			r, err := s.rows(ctx, q)
			if err != nil {
				e.t.Fatal(err)
			}
			var times []string
			for _, t := range r {
				times = append(times, t[0])
			}
			e.t.Logf("key %s on %s (%s): row %s; column writes %v; %d conflicts", k, s.side, s.engine, rows[k], times, len(conflicts))
			for _, c := range conflicts {
				e.t.Logf("    %s", strings.Join(c, " | "))
			}
		}
	}
}

// unresolvedKeys lists the ids with an unresolved conflict on either side.
func (e *stormEnv) unresolvedKeys(ctx context.Context) map[string]bool {
	out := map[string]bool{}
	for _, s := range []*sideDB{e.blue, e.green} {
		id := `key->>'id'`
		if s.engine == engineMy {
			id = "JSON_UNQUOTE(JSON_EXTRACT(`key`, '$.id'))"
		}
		rows, err := s.rows(ctx, `SELECT DISTINCT `+id+` FROM `+e.name+`.conflicts WHERE NOT resolved`)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range rows {
			out[r[0]] = true
		}
	}
	return out
}

// runStorm writes on both sides for the storm duration (killing and
// restarting bgsync kills times, evenly spread) and waits for the sync to
// drain; it returns the keys that still differ.
func (e *stormEnv) runStorm(kills int, deletes bool) ([]string, *proc) {
	t := e.t
	ctx := context.Background()
	cur := e.procs.startRun()
	dur := stormDuration(t)
	sctx, stop := context.WithTimeout(ctx, dur)
	defer stop()
	// Four writers a side at 50/s each: a MariaDB commit waits for two
	// fsyncs, and one writer falling behind its ticks must not take the
	// storm below the 300/s it is asked to reach.
	st, done := e.storm(sctx, 4, 50, uint64(time.Now().UnixNano()), deletes)
	for k := 1; k <= kills; k++ {
		select {
		case <-time.After(dur / time.Duration(kills+1)):
		case <-sctx.Done():
		}
		if err := cur.checkRunning(); err != nil {
			t.Fatal(err)
		}
		cur.kill()
		t.Logf("kill %d: SIGKILLed bgsync after %s; restarting", k, time.Since(cur.start).Round(time.Millisecond))
		cur = e.procs.startRun()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rate := float64(st.txns.Load()) / dur.Seconds()
	t.Logf("storm on %s: %d transactions in %s on both sides (%.0f/s), %d rolled back by the application's own races",
		e.pair.name, st.txns.Load(), dur, rate, st.failed.Load())
	if rate < 300 {
		t.Errorf("storm ran %.0f transactions/s, below the 300/s the acceptance asks for", rate)
	}
	diff := e.settle(ctx, 3*time.Minute)
	if err := cur.checkRunning(); err != nil {
		t.Fatal(err)
	}
	return diff, cur
}

// stormCase is one policy's storm on one engine pair.
type stormCase struct {
	pair    enginePair
	policy  string
	deletes bool
}

// TestConflictStormConverges: for each automatic policy and engine pair,
// both sides write the same keys at once for the storm duration; once the
// writers stop and the sync drains, blue and green must be identical, with
// conflicts detected and logged. blue-wins, green-wins and column-merge
// storms do not delete (see package conflict: a delete racing the other
// side's write is not decided the same way on both sides under those
// policies). last-writer-wins deletes on every pair: with a MariaDB side
// its tombstone triggers record the application's deletes, and both
// sides order a delete against a write by the write's timestamp column
// against the delete's time (package conflict), a MariaDB delete at its
// statement's second (apply/mysql). column-merge with a MariaDB side
// decides by the column write times its triggers record (apply/mysql
// columns.go), in whole seconds as its binlog carries them, and a column
// the target still holds as the incoming before value is written whatever
// the times (conflict/merge.go): without that, a PostgreSQL target
// compared a MariaDB write's whole second with its own microsecond column
// time and could keep its older write (two runs in three diverged).
func TestConflictStormConverges(t *testing.T) {
	for _, c := range []stormCase{
		{pairPG, "last-writer-wins", true}, {pairPG, "blue-wins", false}, {pairPG, "green-wins", false}, {pairPG, "column-merge", false},
		{pairMy, "last-writer-wins", true}, {pairMy, "blue-wins", false}, {pairMy, "green-wins", false}, {pairMy, "column-merge", false},
		{pairMyPG, "last-writer-wins", true}, {pairMyPG, "green-wins", false}, {pairMyPG, "column-merge", false},
	} {
		t.Run(fmt.Sprintf("%s/%s,deletes=%v", c.pair.name, c.policy, c.deletes), func(t *testing.T) {
			e := newStormEnv(t, c.pair, c.policy)
			diff, _ := e.runStorm(0, c.deletes)
			e.reportConflicts()
			if len(diff) > 0 {
				e.explainDiff(diff[:min(len(diff), 5)])
				t.Fatalf("%d keys differ after the storm drained, e.g. %s", len(diff), strings.Join(diff[:min(len(diff), 10)], ", "))
			}
			if n := e.conflicts(context.Background(), ""); n == 0 {
				t.Fatal("no conflict was detected: the storm did not make the sides collide")
			}
			if c.policy == "column-merge" && e.conflicts(context.Background(), "resolution = 'merged'") == 0 {
				t.Fatal("column-merge merged no row: the storm did not write different columns of one row on both sides")
			}
		})
	}
}

// TestConflictStormWithKills is the last-writer-wins storm with bgsync
// SIGKILLed and restarted three times while both sides write and delete,
// on each engine pair (MariaDB↔MariaDB and MariaDB↔PostgreSQL with the
// timestamp column).
func TestConflictStormWithKills(t *testing.T) {
	for _, c := range []stormCase{{pairPG, "last-writer-wins", true}, {pairMy, "last-writer-wins", true}, {pairMyPG, "last-writer-wins", true}} {
		t.Run(fmt.Sprintf("%s,deletes=%v", c.pair.name, c.deletes), func(t *testing.T) {
			e := newStormEnv(t, c.pair, c.policy)
			diff, _ := e.runStorm(3, c.deletes)
			e.reportConflicts()
			if len(diff) > 0 {
				t.Fatalf("%d keys differ after the storm drained, e.g. %s", len(diff), strings.Join(diff[:min(len(diff), 10)], ", "))
			}
			if n := e.conflicts(context.Background(), ""); n == 0 {
				t.Fatal("no conflict was detected")
			}
		})
	}
}

// reportConflicts logs the conflict counts by side, kind and resolution.
func (e *stormEnv) reportConflicts() {
	ctx := context.Background()
	for _, s := range []*sideDB{e.blue, e.green} {
		rows, err := s.rows(ctx, `SELECT kind, resolution, count(*) FROM `+e.name+`.conflicts GROUP BY kind, resolution ORDER BY 1, 2`)
		if err != nil {
			e.t.Fatal(err)
		}
		var lines []string
		for _, r := range rows {
			lines = append(lines, r[0]+"/"+r[1]+": "+r[2])
		}
		e.t.Logf("conflicts logged on %s (%s): %s", s.side, s.engine, strings.Join(lines, ", "))
	}
}

// TestConflictStormManual: under the manual policy the same storm leaves
// differences, and every one of them is a row with an unresolved conflict;
// resolving them (keep blue) converges the sides, on each engine pair: on
// a MariaDB side conflicts are listed from and marked in <name>.conflicts,
// and the copied rows are written with skip_replication, so they are not
// captured back; between MariaDB and PostgreSQL the rows cross engines.
func TestConflictStormManual(t *testing.T) {
	// PostgreSQL blue, MariaDB green: --keep blue copies PostgreSQL rows
	// into MariaDB.
	pairPGMy := enginePair{"pg_my", enginePG, engineMy}
	for _, c := range []stormCase{{pairPG, "manual", true}, {pairMy, "manual", true}, {pairMyPG, "manual", true}, {pairPGMy, "manual", true}} {
		t.Run(fmt.Sprintf("%s,deletes=%v", c.pair.name, c.deletes), func(t *testing.T) { testConflictStormManual(t, c) })
	}
}

func testConflictStormManual(t *testing.T, c stormCase) {
	e := newStormEnv(t, c.pair, c.policy)
	diff, run := e.runStorm(0, c.deletes)
	e.reportConflicts()
	ctx := context.Background()
	// /v1/status and bgsync_unresolved_conflicts count what the tables hold.
	if err := run.waitUnresolved(e.conflicts(ctx, "NOT resolved"), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	unresolved := e.unresolvedKeys(ctx)
	if len(unresolved) == 0 {
		t.Fatal("no unresolved conflict after the storm")
	}
	var unexplained []string
	for _, k := range diff {
		if !unresolved[k] {
			unexplained = append(unexplained, k)
		}
	}
	if len(unexplained) > 0 {
		t.Fatalf("%d differing keys have no unresolved conflict, e.g. %s", len(unexplained), strings.Join(unexplained[:min(10, len(unexplained))], ", "))
	}
	t.Logf("%d keys differ, all with unresolved conflicts; %d keys have unresolved conflicts (%d conflicts)",
		len(diff), len(unresolved), e.conflicts(ctx, "NOT resolved"))
	if len(diff) == 0 {
		t.Fatal("the manual storm left no difference: it tests nothing")
	}

	r := runBgsync(t, 2*time.Minute, "conflicts", "list", "--config", e.cfgPath, "--output", "json")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"resolution": "unresolved"`) {
		t.Fatalf("conflicts list:\n%s", r)
	}
	var listed []struct {
		ID   string          `json:"id"`
		Side string          `json:"side"`
		Key  json.RawMessage `json:"key"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &listed); err != nil {
		t.Fatalf("conflicts list --output json: %v\n%s", err, r.Stdout)
	}
	if n := e.conflicts(ctx, "NOT resolved"); int64(len(listed)) != n {
		t.Errorf("conflicts list printed %d conflicts, the tables hold %d unresolved", len(listed), n)
	}
	for _, l := range listed {
		var key map[string]*string
		if err := json.Unmarshal(l.Key, &key); err != nil || key["id"] == nil || !strings.HasPrefix(l.ID, l.Side+":") {
			t.Fatalf("conflicts list: want ids <side>:<n> and keys {\"id\": ...}, got %s %s", l.ID, l.Key)
		}
	}
	// The text listing prints keys as PostgreSQL prints a jsonb, whichever
	// engine logged them.
	r = runBgsync(t, 2*time.Minute, "conflicts", "list", "--config", e.cfgPath)
	if r.Code != 0 || !strings.Contains(r.Stdout, `{"id": "`) || !strings.Contains(r.Stdout, fmt.Sprintf("%d conflicts", len(listed))) {
		t.Fatalf("conflicts list (text):\n%s", r)
	}
	start := time.Now()
	r = runBgsync(t, 2*time.Minute, "conflicts", "resolve", "--config", e.cfgPath, "--all", "--keep", "blue")
	if r.Code != 0 {
		t.Fatalf("conflicts resolve:\n%s", r)
	}
	t.Logf("conflicts resolve: %s in %s", strings.TrimSpace(r.Stdout), time.Since(start).Round(time.Millisecond))
	if diff := e.settle(ctx, time.Minute); len(diff) > 0 {
		t.Fatalf("%d keys still differ after resolving, e.g. %s", len(diff), strings.Join(diff[:min(10, len(diff))], ", "))
	}
	// A copy captured back would arrive as a change whose before image
	// the kept side does not hold: a new unresolved conflict.
	if n := e.conflicts(ctx, "NOT resolved"); n != 0 {
		t.Fatalf("%d conflicts unresolved after resolving and settling", n)
	}
	if n := e.conflicts(ctx, "resolved_by = 'bgsync conflicts resolve --keep blue' AND resolved_at IS NOT NULL"); n == 0 {
		t.Fatal("no conflict is marked resolved by bgsync conflicts resolve --keep blue")
	}
	if err := run.waitUnresolved(0, 30*time.Second); err != nil {
		t.Fatalf("after conflicts resolve: %v", err)
	}
}

// diffKeys lists the ids whose rows differ between the sides.
func diffKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
