package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// Transforms, green_name and the implicit type conversion of a pair with
// a MariaDB side. Databases and configs are named it_tfm_*.

// tfmPeopleDDL: blue (MariaDB) runs v1, green (PostgreSQL) v2 of a table
// whose name column was split, email renamed, price moved from integer
// cents to numeric, and whose types differ by engine (TINYINT(1) ↔
// boolean, JSON ↔ jsonb, DATETIME(6) ↔ timestamptz).
var tfmPeopleDDL = map[string][]string{
	engineMy: {`CREATE TABLE {s}.people (
	id          BIGINT PRIMARY KEY,
	full_name   VARCHAR(100) NOT NULL,
	email       VARCHAR(100) NOT NULL,
	price_cents INT NOT NULL,
	active      TINYINT(1) NOT NULL,
	doc         JSON,
	happened    DATETIME(6)
)`},
	enginePG: {`CREATE TABLE {s}.people (
	id            bigint PRIMARY KEY,
	first_name    text NOT NULL,
	last_name     text NOT NULL,
	email_address text NOT NULL,
	price         numeric(12,2) NOT NULL,
	active        boolean NOT NULL,
	doc           jsonb,
	happened      timestamptz
)`},
}

const tfmPeopleTables = `tables:
  - name: {s}.people
    transforms:
      blue_to_green:
        rename: {email: email_address}
        set:
          first_name: 'split_part(full_name, " ", 0)'
          last_name: 'trim(join(split(full_name, " ")[1:], " "))'
          price: 'unscaled(price_cents, 2)'
        drop: [full_name, price_cents]
      green_to_blue:
        rename: {email_address: email}
        set:
          full_name: 'trim(first_name + " " + last_name)'
          price_cents: 'scaled(price, 2)'
        drop: [first_name, last_name, price]
`

// withTables rewrites e's config with tables (the YAML of the tables
// section, "{s}" for the schema).
func (e *binlogEnv) withTables(tables string) {
	e.t.Helper()
	schema := e.cfg.Name // newPairEnv names config and schema alike
	cfg := e.cfg.render()
	start := strings.Index(cfg, "tables:\n")
	end := strings.Index(cfg, "apply:")
	if start < 0 || end < start {
		e.t.Fatalf("unexpected config layout:\n%s", cfg)
	}
	cfg = cfg[:start] + strings.ReplaceAll(tables, "{s}", schema) + cfg[end:]
	e.cfgPath = writeFile(e.t, "bgsync.yaml", cfg)
	e.procs = newProcSet(e.t, e.cfgPath)
}

// peopleRow is one person in blue's (v1) shape.
type peopleRow struct {
	id       int64
	name     string // "First Last [More]", single spaces
	email    string
	cents    int64
	active   bool
	doc      string
	happened time.Time
}

func (p peopleRow) insert(engine string) string {
	ts := p.happened.UTC().Format("2006-01-02 15:04:05.000000")
	if engine == enginePG {
		first, last, _ := strings.Cut(p.name, " ")
		return fmt.Sprintf("INSERT INTO people (id, first_name, last_name, email_address, price, active, doc, happened) "+
			"VALUES (%d, '%s', '%s', '%s', %d.%02d, %v, '%s', '%s+00')", p.id, first, last, p.email, p.cents/100, p.cents%100, p.active, p.doc, ts)
	}
	return fmt.Sprintf("INSERT INTO people (id, full_name, email, price_cents, active, doc, happened) VALUES (%d, '%s', '%s', %d, %v, '%s', '%s')",
		p.id, p.name, p.email, p.cents, p.active, p.doc, ts)
}

// peopleWorkload writes people on one side: inserts, updates (of its own
// rows and, with others, of rows the other side created) and deletes.
func peopleWorkload(ctx context.Context, db *sideDB, seed uint64, firstID int64, n int) error {
	r := newRand(seed)
	var ids []int64
	next := firstID
	names := []string{"Ada Lovelace", "Grace Brewster Hopper", "Alan Turing", "Émilie du Châtelet", "Katherine Johnson"}
	for i := range n {
		var stmts []string
		switch k := r.IntN(10); {
		case k < 6 || len(ids) < 5:
			p := peopleRow{id: next, name: names[r.IntN(len(names))], email: fmt.Sprintf("p%d@example.com", next),
				cents: r.Int64N(1_000_000), active: r.IntN(2) == 1, doc: fmt.Sprintf(`{"n": %d, "tags": ["a"]}`, r.IntN(100)),
				happened: time.Date(2021, time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1_000_000)*1000, time.UTC)}
			ids = append(ids, next)
			next++
			stmts = append(stmts, p.insert(db.engine))
		case k < 9:
			id := ids[r.IntN(len(ids))]
			if db.engine == enginePG {
				stmts = append(stmts, fmt.Sprintf("UPDATE people SET price = price + 1.25, active = NOT active, last_name = last_name || ' Jr' WHERE id = %d", id))
			} else {
				stmts = append(stmts, fmt.Sprintf("UPDATE people SET price_cents = price_cents + 125, active = 1 - active, full_name = CONCAT(full_name, ' Jr') WHERE id = %d", id))
			}
		default:
			j := r.IntN(len(ids))
			stmts = append(stmts, fmt.Sprintf("DELETE FROM people WHERE id = %d", ids[j]))
			ids = append(ids[:j], ids[j+1:]...)
		}
		if err := db.tx(ctx, stmts...); err != nil {
			return fmt.Errorf("transaction %d: %w", i, err)
		}
	}
	return nil
}

// peopleInBlueShape reads people on either side as v1 rows, column by
// column: id, full_name, email, price_cents, active 0/1, doc (normalised),
// happened in UTC to the microsecond.
func peopleInBlueShape(ctx context.Context, db *sideDB) ([][]string, error) {
	q := `SELECT id, full_name, email, price_cents, active, doc, DATE_FORMAT(happened, '%Y-%m-%d %H:%i:%s.%f') FROM people ORDER BY id`
	if db.engine == enginePG {
		q = `SELECT id, trim(first_name || ' ' || last_name), email_address, (price * 100)::bigint, active::int, doc::text,
	to_char(happened AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM people ORDER BY id`
	}
	rows, err := db.rows(ctx, q)
	for _, r := range rows {
		r[5] = normJSON(r[5])
	}
	return rows, err
}

// waitColumnsEqual polls until read gives the same rows on both sides,
// then reports how many; on timeout it names the first differing column.
func waitColumnsEqual(t *testing.T, blue, green *sideDB, read func(context.Context, *sideDB) ([][]string, error), cols []string, alive func() error) int {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var last string
	for {
		if err := alive(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		b, err1 := read(ctx, blue)
		g, err2 := read(ctx, green)
		cancel()
		switch {
		case err1 != nil || err2 != nil:
			last = fmt.Sprint(err1, err2)
		case len(b) != len(g):
			last = fmt.Sprintf("%d rows on blue, %d on green", len(b), len(g))
		default:
			last = ""
			for i := 0; i < len(b) && last == ""; i++ {
				for c := range b[i] {
					if b[i][c] != g[i][c] {
						last = fmt.Sprintf("row id %s column %s: blue %q, green %q", b[i][0], cols[c], b[i][c], g[i][c])
						break
					}
				}
			}
			if last == "" {
				return len(b)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("blue and green still differ: %s", last)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// conflictKinds counts the conflicts of each kind logged on db.
func conflictKinds(t *testing.T, e *binlogEnv, db *sideDB) map[string]int64 {
	t.Helper()
	rows, err := db.rows(context.Background(), "SELECT kind, count(*) FROM "+e.cfg.Name+".conflicts GROUP BY kind")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		var n int64
		fmt.Sscan(r[1], &n)
		out[r[0]] = n
	}
	return out
}

// TestTransformEnginesMyPG: a MariaDB blue and a PostgreSQL green of
// another schema version, both ways live, with a rename, a split column
// and a type change (integer cents ↔ numeric), plus types that differ by
// engine copied by name. Both sides must end equal column by column.
func TestTransformEnginesMyPG(t *testing.T) {
	e := newPairEnv(t, "tfm_my_pg", pairMyPG, tfmPeopleDDL, itConfig{Directions: "both"}, "people")
	e.withTables(tfmPeopleTables)
	e.setup()
	p := e.procs.startRun()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	done := make(chan error, 2)
	go func() { done <- peopleWorkload(ctx, e.blue, seed, 1, 200) }()
	go func() { done <- peopleWorkload(ctx, e.green, seed^0x5eed, 1_000_000, 200) }()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	cols := []string{"id", "full_name/first_name+last_name", "email/email_address", "price_cents/price", "active", "doc", "happened"}
	n := waitColumnsEqual(t, e.blue, e.green, peopleInBlueShape, cols, p.checkRunning)
	t.Logf("people equal on both sides, column by column: %d rows", n)
	for _, db := range []*sideDB{e.blue, e.green} {
		if k := conflictKinds(t, e, db); len(k) > 0 {
			t.Errorf("%s logged conflicts, with no write racing another: %v", db.side, k)
		}
	}
	if code := p.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0", code)
	}
}

// TestTransformEnginesGreenName: a table renamed on green, with a column
// renamed too, between two MariaDB sides, both ways.
func TestTransformEnginesGreenName(t *testing.T) {
	ddl := map[string][]string{engineMy: {
		`CREATE TABLE {s}.customers (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL, vip TINYINT(1) NOT NULL DEFAULT 0)`,
		`CREATE TABLE {s}.clients (id BIGINT PRIMARY KEY, full_name VARCHAR(100) NOT NULL, vip TINYINT(1) NOT NULL DEFAULT 0)`,
	}}
	e := newPairEnv(t, "tfm_green_name", pairMy, ddl, itConfig{Directions: "both"}, "customers")
	e.withTables(`tables:
  - name: {s}.customers
    green_name: {s}.clients
    transforms:
      blue_to_green: {rename: {name: full_name}}
      green_to_blue: {rename: {full_name: name}}
`)
	e.setup()
	p := e.procs.startRun()
	ctx := context.Background()
	for i := range 100 {
		e.blue.mustExec(t, fmt.Sprintf("INSERT INTO customers VALUES (%d, 'blue %d', %d)", i+1, i, i%2))
		e.green.mustExec(t, fmt.Sprintf("INSERT INTO clients VALUES (%d, 'green %d', %d)", 1_000_000+i, i, i%2))
		if i%3 == 0 {
			e.blue.mustExec(t, fmt.Sprintf("UPDATE customers SET name = CONCAT(name, ' *'), vip = 1 - vip WHERE id = %d", i+1))
			e.green.mustExec(t, fmt.Sprintf("DELETE FROM clients WHERE id = %d", 1_000_000+i))
		}
	}
	read := func(ctx context.Context, db *sideDB) ([][]string, error) {
		if db == e.blue {
			return db.rows(ctx, "SELECT id, name, vip FROM customers ORDER BY id")
		}
		return db.rows(ctx, "SELECT id, full_name, vip FROM clients ORDER BY id")
	}
	n := waitColumnsEqual(t, e.blue, e.green, read, []string{"id", "name/full_name", "vip"}, p.checkRunning)
	t.Logf("customers (blue) and clients (green) equal: %d rows", n)
	if c, _ := e.green.count(ctx, "SELECT count(*) FROM customers"); c != 0 {
		t.Errorf("green's customers table got %d rows; they belong in clients", c)
	}
	if code := p.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0", code)
	}
}

// TestTransformEnginesMixedNoFalseConflicts: MariaDB blue, PostgreSQL
// green, no transforms, both ways. Each side updates rows the other side
// created, one side at a time, so no two writes race: every update's
// before image is the row the target holds, and no conflict may be
// logged. (Before values were converted to the target's kinds, each
// update coming from MariaDB logged update_differs on PostgreSQL:
// TINYINT(1) 1 against true, DATETIME against timestamptz, JSON text
// against jsonb.)
func TestTransformEnginesMixedNoFalseConflicts(t *testing.T) {
	e := newBinlogEnv(t, "tfm_mixed", engineMy, enginePG, "both")
	e.setup()
	p := e.procs.startRun()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	bw := newBinlogWorkload(seed, "blue", 1, 0)
	gw := newBinlogWorkload(seed^0x5eed, "green", 1_000_000, 1_000_000)
	// Inserts only, so that every row lives on: the updates below need rows.
	onlyInserts := func(w *binlogWorkload, db *sideDB, n int) error {
		for range n {
			var vals []string
			for range 3 {
				vals = append(vals, w.newItem().values(db.engine))
			}
			if err := db.tx(ctx, "INSERT INTO items (id, qty, price, flag, happened, doc, note, payload) VALUES "+strings.Join(vals, ", ")); err != nil {
				return err
			}
		}
		return nil
	}
	if err := onlyInserts(bw, e.blue, 40); err != nil {
		t.Fatal(err)
	}
	if err := onlyInserts(gw, e.green, 40); err != nil {
		t.Fatal(err)
	}
	waitItemsEqual(t, e.blue, e.green, 2*time.Minute, p.checkRunning)
	// Each side updates the other's rows, then waits for them to arrive.
	updates := 0
	for round := range 3 {
		for _, u := range []struct {
			db  *sideDB
			ids []int64
		}{{e.blue, gw.ids}, {e.green, bw.ids}} {
			for i, id := range u.ids {
				if (i+round)%2 != 0 {
					continue
				}
				set := fmt.Sprintf("qty = qty + 1, note = 'round %d'", round)
				if round == 1 {
					set += ", price = price + 1"
				}
				u.db.mustExec(t, fmt.Sprintf("UPDATE items SET %s WHERE id = %d", set, id))
				updates++
			}
			waitItemsEqual(t, e.blue, e.green, 2*time.Minute, p.checkRunning)
		}
	}
	t.Logf("%d updates of rows created on the other side, none racing", updates)
	for _, db := range []*sideDB{e.blue, e.green} {
		k := conflictKinds(t, e, db)
		t.Logf("conflicts logged on %s (%s): %v", db.side, db.engine, k)
		if k["update_differs"] != 0 {
			rows, _ := db.rows(ctx, "SELECT table_name, incoming_before, target_row FROM "+e.cfg.Name+".conflicts WHERE kind = 'update_differs' LIMIT 2")
			t.Errorf("%s logged %d update_differs for updates that raced nothing; e.g. %v", db.side, k["update_differs"], rows)
		}
	}
	if code := p.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0", code)
	}
}

// TestTransformEnginesBadTransform: a transform that does not fit the live
// MariaDB and PostgreSQL schemas is refused by setup and run (exit 2),
// every problem at its config line; nothing runs.
func TestTransformEnginesBadTransform(t *testing.T) {
	e := newPairEnv(t, "tfm_bad", pairMyPG, tfmPeopleDDL, itConfig{Directions: "both"}, "people")
	e.withTables(tfmPeopleTables)
	e.setup() // the good transforms: run then finds everything but them in place
	bad := strings.Replace(tfmPeopleTables, "rename: {email: email_address}", "rename: {email: email_adress}", 1)
	bad = strings.Replace(bad, "price_cents: 'scaled(price, 2)'", "price_cents: 'active'", 1)
	e.withTables(bad)
	data, err := os.ReadFile(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	lineOf := func(s string) int {
		for i, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, s) {
				return i + 1
			}
		}
		t.Fatalf("the config has no line with %q", s)
		return 0
	}
	renameLine, setLine := lineOf("email_adress"), lineOf("price_cents: 'active'")
	for _, cmd := range []string{"setup", "run"} {
		args := []string{cmd, "--config", e.cfgPath}
		if cmd == "setup" {
			args = append(args, "--replica-identity-full")
		}
		r := runBgsync(t, time.Minute, args...)
		if r.Code != 2 {
			t.Fatalf("%s exited %d, want 2:\n%s", cmd, r.Code, r)
		}
		t.Logf("%s refused, as it should:\n%s", cmd, strings.TrimSpace(r.Stderr))
		for _, want := range []string{`has no column "email_adress"`, "returns a bool, which a int(11) column cannot take"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%s's error does not say %q", cmd, want)
			}
		}
		if !mentionsLine(r.Stderr, renameLine) || !mentionsLine(r.Stderr, setLine) {
			t.Errorf("%s's error does not point at lines %d and %d:\n%s", cmd, renameLine, setLine, r.Stderr)
		}
	}
}
