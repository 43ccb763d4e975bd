package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Blue runs schema v1 and green v2; each table holds one of the cases a
// blue-green deploy changes between versions.
const (
	transformsBlueDDL = `
CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL);
CREATE TABLE people   (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders   (id int PRIMARY KEY, qty int NOT NULL, unit_cents int NOT NULL);
CREATE TABLE products (id int PRIMARY KEY, price_cents integer NOT NULL);
CREATE TABLE settings (id int PRIMARY KEY, attrs text);
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE tickets  (id int PRIMARY KEY, title text NOT NULL, legacy_code text);`
	transformsGreenDDL = `
CREATE TABLE accounts (id int PRIMARY KEY, email_address text NOT NULL);
CREATE TABLE people   (id int PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL);
CREATE TABLE orders   (id int PRIMARY KEY, qty int NOT NULL, unit_cents int NOT NULL, total_cents bigint NOT NULL);
CREATE TABLE products (id int PRIMARY KEY, price numeric(12,2) NOT NULL);
CREATE TABLE settings (id int PRIMARY KEY, attrs jsonb);
CREATE TABLE clients  (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE tickets  (id int PRIMARY KEY, title text NOT NULL);`
)

// transformsTables is the tables section of the config: one entry per
// case of issue 4, in the documented syntax.
const transformsTables = `tables:
  # 1. a column renamed
  - name: accounts
    transforms:
      blue_to_green: {rename: {email: email_address}}
      green_to_blue: {rename: {email_address: email}}
  # 2. one column split into two, joined back
  - name: people
    transforms:
      blue_to_green:
        set:
          first_name: 'split_part(name, " ", 0)'
          last_name: 'trim(join(split(name, " ")[1:], " "))'
        drop: [name]
      green_to_blue:
        set: {name: 'trim(first_name + " " + last_name)'}
        drop: [first_name, last_name]
  # 3. a NOT NULL column only green has, computed from blue's row
  - name: orders
    transforms:
      blue_to_green: {set: {total_cents: 'qty * unit_cents'}}
      green_to_blue: {drop: [total_cents]}
  # 4. integer cents on blue, numeric on green
  - name: products
    transforms:
      blue_to_green: {set: {price: 'unscaled(price_cents, 2)'}, drop: [price_cents]}
      green_to_blue: {set: {price_cents: 'scaled(price, 2)'}, drop: [price]}
  # 5. JSON in a text column on blue, jsonb on green: converted by name
  - name: settings
  # 6. the table renamed
  - name: customers
    green_name: clients
  # 7. a column green dropped: blue keeps its value through green's updates
  - name: tickets
    transforms:
      blue_to_green: {drop: [legacy_code]}
`

func transformsConfig(db *testDB, state, tables string) string {
	return fmt.Sprintf(`name: %s
state_dir: %q
blue: {engine: postgres, dsn: %q, schema_version: v1}
green: {engine: postgres, dsn: %q, schema_version: v2}
directions: both
kafka: {brokers: embedded}
%s
apply: {batch_rows: 500}
log: {level: info, format: json}
http: {listen: "127.0.0.1:0"}
`, db.Name, state, db.BlueDSN, db.GreenDSN, tables)
}

func execAll(t *testing.T, ctx context.Context, c *pgx.Conn, sql string) {
	t.Helper()
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", clip(sql, 200), err)
	}
}

// TestTransformsLive streams both ways between schema v1 (blue) and v2
// (green), with the application writing on both sides, and checks every
// row of each side against the other through mappings the test computes
// itself.
func TestTransformsLive(t *testing.T) {
	requireIntegration(t)
	requireBinary(t)
	db := newTestDB(t, "transforms")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	blue, green := mustConnect(t, db.BlueDSN), mustConnect(t, db.GreenDSN)
	execAll(t, ctx, blue, transformsBlueDDL)
	execAll(t, ctx, green, transformsGreenDDL)
	path := writeFile(t, "bgsync.yaml", transformsConfig(db, filepath.Join(t.TempDir(), "state"), transformsTables))
	if r := runBgsync(t, 2*time.Minute, "setup", "--config", path, "--replica-identity-full"); r.Code != 0 {
		t.Fatalf("setup:\n%s", r)
	}
	p := newProcSet(t, path).startRun()

	// Blue's application (v1) writes keys 1..n, green's (v2) 1001..1000+n.
	const n = 60
	for i := 1; i <= n; i++ {
		execAll(t, ctx, blue, fmt.Sprintf(`BEGIN;
INSERT INTO accounts VALUES (%[1]d, 'user%[1]d@blue.example');
INSERT INTO people VALUES (%[1]d, %[2]s);
INSERT INTO orders VALUES (%[1]d, %[1]d, 250);
INSERT INTO products VALUES (%[1]d, %[3]d);
INSERT INTO settings VALUES (%[1]d, %[4]s);
INSERT INTO customers VALUES (%[1]d, 'customer %[1]d');
INSERT INTO tickets VALUES (%[1]d, 'ticket %[1]d', 'LEG-%[1]d');
COMMIT`, i, quoteLit(personName(i)), i*137+5, quoteLit(fmt.Sprintf(`{"theme": "dark", "n": %d, "tags": ["a", "b"]}`, i))))
		g := 1000 + i
		execAll(t, ctx, green, fmt.Sprintf(`BEGIN;
INSERT INTO accounts VALUES (%[1]d, 'user%[1]d@green.example');
INSERT INTO people VALUES (%[1]d, 'Grace', %[2]s);
INSERT INTO orders VALUES (%[1]d, 3, %[1]d, %[3]d);
INSERT INTO products VALUES (%[1]d, %[4]s);
INSERT INTO settings VALUES (%[1]d, '{"lang": "en", "n": %[1]d}');
INSERT INTO clients VALUES (%[1]d, 'client %[1]d');
INSERT INTO tickets VALUES (%[1]d, 'green ticket %[1]d');
COMMIT`, g, quoteLit(fmt.Sprintf("Hopper %d", i)), 3*g, fmt.Sprintf("%d.%02d", i, i%100)))
	}
	// Updates and deletes of each side's own rows (blue's below 1000,
	// green's above): nothing here races the other side.
	execAll(t, ctx, blue, `UPDATE accounts SET email = 'changed' || id || '@blue.example' WHERE id % 5 = 0 AND id < 1000;
UPDATE people SET name = 'Ada Byron King' WHERE id = 7;
UPDATE orders SET qty = qty + 10 WHERE id % 4 = 0 AND id < 1000;
UPDATE products SET price_cents = price_cents + 1 WHERE id % 3 = 0 AND id < 1000;
UPDATE settings SET attrs = '{"theme": "light"}' WHERE id = 2;
UPDATE settings SET attrs = NULL WHERE id = 3;
UPDATE customers SET name = name || ' (vip)' WHERE id % 6 = 0 AND id < 1000;
DELETE FROM accounts WHERE id = 11; DELETE FROM people WHERE id = 11; DELETE FROM orders WHERE id = 11;
DELETE FROM products WHERE id = 11; DELETE FROM settings WHERE id = 11; DELETE FROM customers WHERE id = 11;
DELETE FROM tickets WHERE id = 11`)
	execAll(t, ctx, green, `UPDATE accounts SET email_address = 'changed' || id || '@green.example' WHERE id % 5 = 0 AND id > 1000;
UPDATE people SET last_name = 'Hopper-Murray' WHERE id = 1007;
UPDATE orders SET qty = 5, total_cents = 5 * unit_cents WHERE id = 1008;
UPDATE products SET price = price + 0.01 WHERE id % 3 = 0 AND id > 1000;
UPDATE clients SET name = name || ' (vip)' WHERE id % 6 = 0 AND id > 1000;
DELETE FROM accounts WHERE id = 1012; DELETE FROM people WHERE id = 1012; DELETE FROM orders WHERE id = 1012;
DELETE FROM products WHERE id = 1012; DELETE FROM settings WHERE id = 1012; DELETE FROM clients WHERE id = 1012;
DELETE FROM tickets WHERE id = 1012`)

	waitTransformed(t, ctx, p, blue, green, "after each side's own writes")

	// Green's application (v2) now updates rows blue created: tickets'
	// legacy_code, which v2 does not have, must survive on blue; the
	// before images are compared in blue's shape, so none of this is a
	// conflict.
	execAll(t, ctx, green, `UPDATE tickets SET title = title || ' (edited on green)' WHERE id <= 20;
UPDATE people SET first_name = 'Augusta' WHERE id = 1;
UPDATE products SET price = 99.99 WHERE id = 2;
UPDATE clients SET name = 'renamed on green' WHERE id = 4;
UPDATE orders SET qty = 1, total_cents = unit_cents WHERE id = 5`)
	execAll(t, ctx, blue, `UPDATE tickets SET title = title || ' (edited on blue)' WHERE id BETWEEN 1021 AND 1030`)
	waitTransformed(t, ctx, p, blue, green, "after updates across versions")

	for i := 1; i <= n; i++ {
		if i == 11 {
			continue
		}
		var code *string
		if err := blue.QueryRow(ctx, `SELECT legacy_code FROM tickets WHERE id = $1`, i).Scan(&code); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("LEG-%d", i); code == nil || *code != want {
			t.Errorf("blue tickets %d: legacy_code = %v after green's update, want %s", i, deref(code), want)
		}
	}
	var nullCodes int64
	if err := blue.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE id > 1000 AND legacy_code IS NULL`).Scan(&nullCodes); err != nil {
		t.Fatal(err)
	}
	if nullCodes != n-1 {
		t.Errorf("blue tickets inserted on green: %d with legacy_code NULL (the column default), want %d", nullCodes, n-1)
	}
	dirs, err := p.status()
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range dirs {
		if d.Unresolved == nil || *d.Unresolved != 0 {
			t.Errorf("%s: unresolved conflicts %v, want 0", name, d.Unresolved)
		}
	}
	for _, side := range []string{db.BlueDSN, db.GreenDSN} {
		n, err := queryInt(ctx, side, `SELECT count(*) FROM `+db.Name+`.conflicts`)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s logged %d conflicts; updates across versions must compare images in the target's shape", redact(side), n)
		}
	}

	if r := runBgsync(t, 3*time.Minute, "verify", "--config", path); r.Code != 0 {
		t.Errorf("verify through the transforms: want exit 0, got\n%s", r)
	} else {
		t.Logf("verify:\n%s", tailLines(r.Stdout, 20))
	}
	if r := runBgsync(t, 2*time.Minute, "check-transforms", "--config", path, "--sample", "0"); r.Code != 0 {
		t.Errorf("check-transforms: want exit 0 (no lossy row), got\n%s", r)
	} else {
		t.Logf("check-transforms:\n%s", tailLines(r.Stdout, 30))
	}
	if code := p.stop(time.Minute); code != 0 {
		t.Errorf("run exited %d after SIGTERM", code)
	}
}

func personName(i int) string {
	switch i % 3 {
	case 0:
		return fmt.Sprintf("Ada %d", i)
	case 1:
		return fmt.Sprintf("Ada Lovelace %d", i)
	}
	return fmt.Sprintf("Charles Babbage-%d", i)
}

func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}

// waitTransformed waits until every table of blue, mapped to v2 by the
// test's own rules, equals green's, and every green row mapped to v1
// equals blue's; it fails the test with the differences otherwise.
func waitTransformed(t *testing.T, ctx context.Context, p *proc, blue, green *pgx.Conn, when string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		diffs, err := transformDiffs(ctx, blue, green)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) == 0 {
			return
		}
		if err := p.checkRunning(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: blue and green do not agree through the mappings:\n%s", when, strings.Join(diffs[:min(len(diffs), 20)], "\n"))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// transformDiffs compares the two versions table by table. Each query
// selects a row in one shape; the Go functions below map a row of the
// other shape into it, written independently of bgsync's transform code.
func transformDiffs(ctx context.Context, blue, green *pgx.Conn) ([]string, error) {
	type pair struct {
		table    string
		blueSQL  string // rows of v1, keyed by id
		greenSQL string // rows of v2
		toGreen  func([]any) []any
		toBlue   func([]any) []any // nil: the same columns both ways
	}
	s := func(v any) string { return v.(string) }
	cases := []pair{
		{table: "accounts", blueSQL: `SELECT id, email FROM accounts`, greenSQL: `SELECT id, email_address FROM accounts`},
		{table: "people", blueSQL: `SELECT id, name FROM people`, greenSQL: `SELECT id, first_name, last_name FROM people`,
			toGreen: func(r []any) []any {
				first, rest, _ := strings.Cut(s(r[1]), " ")
				return []any{r[0], first, strings.TrimSpace(rest)}
			},
			toBlue: func(r []any) []any { return []any{r[0], strings.TrimSpace(s(r[1]) + " " + s(r[2]))} }},
		{table: "orders", blueSQL: `SELECT id, qty, unit_cents FROM orders`, greenSQL: `SELECT id, qty, unit_cents, total_cents FROM orders`,
			toGreen: func(r []any) []any {
				return []any{r[0], r[1], r[2], int64(r[1].(int32)) * int64(r[2].(int32))}
			},
			toBlue: func(r []any) []any { return r[:3] }},
		{table: "products", blueSQL: `SELECT id, price_cents FROM products`, greenSQL: `SELECT id, price::text FROM products`,
			toGreen: func(r []any) []any {
				c := r[1].(int32)
				return []any{r[0], fmt.Sprintf("%d.%02d", c/100, c%100)}
			},
			toBlue: func(r []any) []any {
				whole, frac, _ := strings.Cut(s(r[1]), ".")
				w, err1 := strconv.Atoi(whole)
				f, err2 := strconv.Atoi(frac)
				if err1 != nil || err2 != nil || len(frac) != 2 {
					return []any{r[0], "unparsable price " + s(r[1])}
				}
				return []any{r[0], int32(w*100 + f)}
			}},
		// JSON is compared as data: parsed on both sides below.
		{table: "settings", blueSQL: `SELECT id, attrs FROM settings`, greenSQL: `SELECT id, attrs::text FROM settings`},
		{table: "customers/clients", blueSQL: `SELECT id, name FROM customers`, greenSQL: `SELECT id, name FROM clients`},
		{table: "tickets", blueSQL: `SELECT id, title FROM tickets`, greenSQL: `SELECT id, title FROM tickets`},
	}
	var diffs []string
	for _, c := range cases {
		b, err := rowsByID(ctx, blue, c.blueSQL)
		if err != nil {
			return nil, fmt.Errorf("blue %s: %w", c.table, err)
		}
		g, err := rowsByID(ctx, green, c.greenSQL)
		if err != nil {
			return nil, fmt.Errorf("green %s: %w", c.table, err)
		}
		toGreen, toBlue := c.toGreen, c.toBlue
		if toGreen == nil {
			toGreen = func(r []any) []any { return r }
		}
		if toBlue == nil {
			toBlue = func(r []any) []any { return r }
		}
		if c.table == "settings" {
			for _, side := range []map[int32][]any{b, g} {
				for id, r := range side {
					side[id] = []any{r[0], jsonValue(r[1])}
				}
			}
		}
		for id, br := range b {
			gr, ok := g[id]
			switch {
			case !ok:
				diffs = append(diffs, fmt.Sprintf("%s id %d: on blue, missing on green", c.table, id))
			case !reflect.DeepEqual(toGreen(br), gr):
				diffs = append(diffs, fmt.Sprintf("%s id %d: blue %v maps to %v, green has %v", c.table, id, br, toGreen(br), gr))
			case !reflect.DeepEqual(toBlue(gr), br):
				diffs = append(diffs, fmt.Sprintf("%s id %d: green %v maps to %v, blue has %v", c.table, id, gr, toBlue(gr), br))
			}
		}
		for id := range g {
			if _, ok := b[id]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s id %d: on green, missing on blue", c.table, id))
			}
		}
	}
	return diffs, nil
}

// jsonValue parses a JSON text (nil for SQL NULL) into Go values, so two
// texts of the same data compare equal.
func jsonValue(v any) any {
	if v == nil {
		return nil
	}
	var x any
	if err := json.Unmarshal([]byte(v.(string)), &x); err != nil {
		return "invalid JSON: " + v.(string)
	}
	return x
}

func rowsByID(ctx context.Context, c *pgx.Conn, sql string) (map[int32][]any, error) {
	rows, err := c.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int32][]any{}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		out[vals[0].(int32)] = vals
	}
	return out, rows.Err()
}
