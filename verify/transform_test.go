package verify

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/bgsync/bgsync/internal/testenv"
	"github.com/bgsync/bgsync/transform"
	"github.com/jackc/pgx/v5"
)

// mappedEnv is a blue and a green database for one test.
type mappedEnv struct {
	blueDSN, greenDSN string
	blue, green       *pgx.Conn
}

func newMappedEnv(t testing.TB) *mappedEnv {
	e := &mappedEnv{blueDSN: testenv.NewDatabase(t, testenv.BlueDSN()), greenDSN: testenv.NewDatabase(t, testenv.GreenDSN())}
	e.blue, e.green = testenv.Connect(t, e.blueDSN), testenv.Connect(t, e.greenDSN)
	return e
}

// compile binds r to both live schemas, as bgsync does at start.
func (e *mappedEnv) compile(t testing.TB, r transform.Rule) *transform.Mapping {
	t.Helper()
	ctx := context.Background()
	src, err := transform.ReadColumns(ctx, e.blue, r.Source)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := transform.ReadColumns(ctx, e.green, r.Target)
	if err != nil {
		t.Fatal(err)
	}
	m, probs := transform.Compile(r, src, dst)
	if len(probs) > 0 {
		t.Fatalf("compile %s: %v", r.Source, probs)
	}
	return m
}

func (e *mappedEnv) run(t testing.TB, o Options) *Report {
	t.Helper()
	o.BlueDSN, o.GreenDSN = e.blueDSN, e.greenDSN
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

var (
	customers = change.Table{Schema: "public", Name: "customers"}
	clients   = change.Table{Schema: "public", Name: "clients"}
)

// customersRule is the expand/contract example: a renamed table, a
// renamed column, a name split in two, cents into a numeric, text into
// jsonb, and a green column (note) the transform does not fill.
var customersRule = transform.Rule{Source: customers, Target: clients,
	Rename: map[string]string{"email": "email_address"},
	Set: map[string]string{
		"first_name": `split_part(name, " ", 0)`,
		"last_name":  `trim(join(split(name, " ")[1:], " "))`,
		"price":      `unscaled(price_cents, 2)`,
	},
	Drop: []string{"name", "price_cents"},
}

const customerRows = 1000

// seedCustomers writes the same customers on both sides, each in its own
// shape: blue's attrs are JSON text with its own key order and spacing,
// green's are jsonb; green's prices print with two decimals (12.50).
func (e *mappedEnv) seedCustomers(t testing.TB, n int) {
	testenv.Exec(t, e.blue, `CREATE TABLE customers (id int PRIMARY KEY, email text, name text, price_cents integer, attrs text)`,
		fmt.Sprintf(`INSERT INTO customers SELECT i, 'u'||i||'@example.org', 'First'||i||' Middle Last'||i, i*10,
	'{"b": '||i||',   "a" : {"y":1, "x":[1, 2.50]}}' FROM generate_series(1, %d) i`, n),
		`UPDATE customers SET name = 'Plato' WHERE id = 3`) // no last name: ""
	testenv.Exec(t, e.green, `CREATE TABLE clients (id bigint PRIMARY KEY, email_address text, first_name text, last_name text,
	price numeric(12,2), attrs jsonb, note text DEFAULT 'x')`,
		fmt.Sprintf(`INSERT INTO clients (id, email_address, first_name, last_name, price, attrs)
	SELECT i, 'u'||i||'@example.org', 'First'||i, 'Middle Last'||i, i/10.0, ('{"a":{"x":[1,2.50],"y":1},"b":'||i||'}')::jsonb
	FROM generate_series(1, %d) i`, n),
		`UPDATE clients SET first_name = 'Plato', last_name = '' WHERE id = 3`,
		`UPDATE clients SET note = 'green only, not compared' WHERE id = 5`)
}

func TestMappedTableThroughTransforms(t *testing.T) {
	e := newMappedEnv(t)
	e.seedCustomers(t, customerRows)
	m := e.compile(t, customersRule)
	opts := Options{Tables: []change.Table{customers}, Mappings: map[change.Table]*transform.Mapping{customers: m}, ChunkRows: 128, Parallel: 3}

	rep := e.run(t, opts)
	tb := rep.Tables[0]
	if tb.Error != "" || rep.Status() != "consistent" || tb.Matched != customerRows || tb.BlueRows != customerRows || tb.GreenRows != customerRows {
		t.Fatalf("equal data: status %s, %+v", rep.Status(), tb)
	}
	if tb.Name != "public.customers" || tb.Green != "public.clients" {
		t.Fatalf("names: %q, %q", tb.Name, tb.Green)
	}
	var buf bytes.Buffer
	if err := rep.Text(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "public.customers → public.clients") {
		t.Fatalf("the report does not name green's table:\n%s", buf.String())
	}

	// One changed value, one row missing on each side.
	testenv.Exec(t, e.green, `UPDATE clients SET last_name = 'Changed' WHERE id = 42`,
		`DELETE FROM clients WHERE id = 7`,
		`INSERT INTO clients (id, email_address) VALUES (5000, 'only@green')`)
	rep = e.run(t, opts)
	tb = rep.Tables[0]
	if rep.Status() != "divergent" || tb.Different != 1 || tb.MissingOnGreen != 1 || tb.MissingOnBlue != 1 ||
		tb.Matched != customerRows-2 || tb.InFlight != 0 {
		t.Fatalf("after changes on green: status %s, %+v", rep.Status(), tb)
	}
	want := map[string]string{"different": "42[last_name]", "missing_on_green": "7[]", "missing_on_blue": "5000[]"}
	for class, w := range want {
		s := tb.Samples[class]
		if len(s) != 1 || s[0].Key+"["+strings.Join(s[0].Columns, ",")+"]" != w {
			t.Errorf("%s samples %+v, want %s", class, s, w)
		}
	}
}

func TestMappedRowTheTransformFailsOnIsDifferent(t *testing.T) {
	e := newMappedEnv(t)
	e.seedCustomers(t, 50)
	// Text that is not JSON cannot go into green's jsonb column.
	testenv.Exec(t, e.blue, `UPDATE customers SET attrs = 'not json' WHERE id = 9`)
	m := e.compile(t, customersRule)
	rep := e.run(t, Options{Tables: []change.Table{customers}, Mappings: map[change.Table]*transform.Mapping{customers: m}})
	tb := rep.Tables[0]
	if rep.Status() != "divergent" || tb.Different != 1 || tb.Matched != 49 {
		t.Fatalf("status %s, %+v", rep.Status(), tb)
	}
	s := tb.Samples["different"]
	if len(s) != 1 || s[0].Key != "9" || !strings.Contains(s[0].Error, "attrs") || !strings.Contains(s[0].Error, "not JSON") {
		t.Fatalf("sample of the row the transform fails on: %+v", s)
	}
	var buf bytes.Buffer
	if err := rep.Text(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "(9){transform public.customers → public.clients: column attrs") {
		t.Fatalf("text report lacks the error:\n%s", buf.String())
	}
}

// A copy between types that print alike values differently (numeric vs
// numeric(12,2), integer vs bigint, json vs jsonb) is no difference.
func TestMappedCopyComparesValuesNotText(t *testing.T) {
	e := newMappedEnv(t)
	testenv.Exec(t, e.blue, `CREATE TABLE orders (id int PRIMARY KEY, amount numeric, doc json, qty integer)`,
		`INSERT INTO orders VALUES (1, 12.5, '{"b":1,"a":2}', 3), (2, 7, '{ "a" : [1, {"d":null,"c":true}] }', 4), (3, NULL, NULL, NULL)`)
	testenv.Exec(t, e.green, `CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), doc jsonb, qty numeric)`,
		`INSERT INTO orders VALUES (1, 12.50, '{"a":2,"b":1}', 3.0), (2, 7.00, '{"a":[1,{"c":true,"d":null}]}', 4), (3, NULL, NULL, NULL)`)
	orders := change.Table{Schema: "public", Name: "orders"}
	m := e.compile(t, transform.Rule{Source: orders, Target: orders})
	if m.Identity() {
		t.Fatal("a copy between types must not be an identity")
	}
	opts := Options{Tables: []change.Table{orders}, Mappings: map[change.Table]*transform.Mapping{orders: m}}
	rep := e.run(t, opts)
	if tb := rep.Tables[0]; rep.Status() != "consistent" || tb.Matched != 3 || tb.Green != "" {
		t.Fatalf("status %s, %+v", rep.Status(), tb)
	}
	// NULL is not the empty text, nor 0.
	testenv.Exec(t, e.green, `UPDATE orders SET qty = 0, doc = 'null' WHERE id = 3`)
	rep = e.run(t, opts)
	tb := rep.Tables[0]
	if s := tb.Samples["different"]; tb.Different != 1 || len(s) != 1 || strings.Join(s[0].Columns, ",") != "doc,qty" {
		t.Fatalf("NULL vs 0 and JSON null: %+v", tb)
	}
}

// An identity mapping of a table green has an extra column of: compared
// through the mapping (the extra column is not compared); with the same
// columns on both sides: the fast path.
func TestIdentityMapping(t *testing.T) {
	e := newMappedEnv(t)
	for _, c := range []*pgx.Conn{e.blue, e.green} {
		testenv.Exec(t, c, `CREATE TABLE same (id int PRIMARY KEY, v text)`, `CREATE TABLE wider (id int PRIMARY KEY, v text)`,
			`INSERT INTO same VALUES (1, 'a'), (2, 'b')`, `INSERT INTO wider VALUES (1, 'a'), (2, 'b')`)
	}
	testenv.Exec(t, e.green, `ALTER TABLE wider ADD COLUMN extra text DEFAULT 'green'`)
	same, wider := change.Table{Schema: "public", Name: "same"}, change.Table{Schema: "public", Name: "wider"}
	ms := map[change.Table]*transform.Mapping{}
	for _, tb := range []change.Table{same, wider} {
		if ms[tb] = e.compile(t, transform.Rule{Source: tb, Target: tb}); !ms[tb].Identity() {
			t.Fatalf("%s: not an identity", tb)
		}
	}
	probe, err := openPair(context.Background(), &Options{BlueDSN: e.blueDSN, GreenDSN: e.greenDSN})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.close()
	s, err := loadShape(context.Background(), probe, same, ms[same], &Options{})
	if err != nil || s.mapped != nil || s.green != nil {
		t.Fatalf("same columns: want the fast path, got %+v, %v", s, err)
	}
	rep := e.run(t, Options{Tables: []change.Table{same, wider}, Mappings: ms})
	if rep.Status() != "consistent" || rep.Tables[0].Matched != 2 || rep.Tables[1].Matched != 2 {
		t.Fatalf("status %s, %+v", rep.Status(), rep.Tables)
	}
}

// A key computed rather than copied is refused with a clear reason.
func TestMappedComputedKeyIsRefused(t *testing.T) {
	e := newMappedEnv(t)
	testenv.Exec(t, e.blue, `CREATE TABLE k (id int PRIMARY KEY, v text)`, `INSERT INTO k VALUES (1, 'a')`)
	testenv.Exec(t, e.green, `CREATE TABLE k (id bigint PRIMARY KEY, v text)`, `INSERT INTO k VALUES (10, 'a')`)
	k := change.Table{Schema: "public", Name: "k"}
	m := e.compile(t, transform.Rule{Source: k, Target: k, Set: map[string]string{"id": "id * 10"}})
	rep := e.run(t, Options{Tables: []change.Table{k}, Mappings: map[change.Table]*transform.Mapping{k: m}})
	if tb := rep.Tables[0]; rep.Status() != "unmeasured" || !strings.Contains(tb.Error, "copied unchanged") {
		t.Fatalf("status %s, %+v", rep.Status(), tb)
	}
}

// While a sync runs, a mapped row that differed is re-read (green under
// its own names) once the slot has confirmed the position seen; equal
// then, it is in flight.
func TestMappedRecheckInFlight(t *testing.T) {
	e := newMappedEnv(t)
	e.seedCustomers(t, 100)
	testenv.Exec(t, e.green, `UPDATE clients SET email_address = 'stale' WHERE id = 11`, `DELETE FROM clients WHERE id = 12`)
	testenv.Exec(t, e.blue, `SELECT pg_create_logical_replication_slot('verify_test', 'pgoutput')`)
	m := e.compile(t, customersRule)
	fixGreen := func(Progress) {
		// What a sync would do meanwhile: apply the changes, then confirm.
		ctx := context.Background()
		if _, err := e.green.Exec(ctx, `UPDATE clients SET email_address = 'u11@example.org' WHERE id = 11;
INSERT INTO clients (id, email_address, first_name, last_name, price, attrs)
	VALUES (12, 'u12@example.org', 'First12', 'Middle Last12', 1.20, '{"b":12,"a":{"x":[1,2.50],"y":1}}')`); err != nil {
			t.Error(err) // not Fatal: this runs on a verify worker
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			var ok bool
			if err := e.blue.QueryRow(ctx, `SELECT s.confirmed_flush_lsn >= pg_current_wal_lsn()
FROM pg_replication_slot_advance('verify_test', pg_current_wal_lsn()) a, pg_replication_slots s WHERE s.slot_name = 'verify_test'`).Scan(&ok); err != nil {
				t.Error(err)
				return
			}
			if ok || time.Now().After(deadline) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	rep := e.run(t, Options{Tables: []change.Table{customers}, Mappings: map[change.Table]*transform.Mapping{customers: m},
		Slots: map[string]string{"blue": "verify_test"}, SettleTimeout: 20 * time.Second, Progress: fixGreen})
	tb := rep.Tables[0]
	if rep.Unsettled != "" || rep.Status() != "consistent" || tb.InFlight != 2 || tb.Matched != 98 {
		t.Fatalf("status %s (%s), %+v", rep.Status(), rep.Unsettled, tb)
	}
}

func TestConverterLines(t *testing.T) {
	// Tabs, newlines and backslashes in canonical values stay inside
	// their field; an error line keeps the key and carries the reason.
	got := string(pgtext.AppendCopyText(nil, "a\tb\\c\nd"))
	if got != `a\tb\\c\nd` || unescapeCopy(got) != "a\tb\\c\nd" {
		t.Fatalf("escaped %q", got)
	}
	c := &converter{key: []string{"1", "x\ty"}}
	line := string(c.errLine(fmt.Errorf("bad\tvalue")))
	if !strings.HasPrefix(line, "1\tx\\ty\t") || lineError(line) != "bad\tvalue" {
		t.Fatalf("error line %q, error %q", line, lineError(line))
	}
	if lineError("1\tplain") != "" {
		t.Fatal("a plain line carries no error")
	}
	c.split([]byte("1\t\\N\t\ta\\tb"))
	if len(c.fields) != 4 || c.fields[1] != nil || c.fields[2] == nil || len(c.fields[2]) != 0 || string(c.fields[3]) != "a\tb" {
		t.Fatalf("fields %q", c.fields)
	}
}

// BenchmarkMappedVerify measures a whole verify of the customers table
// through its transform, and of the same rows on the fast path.
func BenchmarkMappedVerify(b *testing.B) {
	const n = 100000
	e := newMappedEnv(b)
	e.seedCustomers(b, n)
	for _, c := range []*pgx.Conn{e.blue, e.green} {
		testenv.Exec(b, c, `CREATE TABLE plain (id int PRIMARY KEY, email text, name text, price_cents integer, attrs text)`,
			fmt.Sprintf(`INSERT INTO plain SELECT i, 'u'||i||'@example.org', 'First'||i||' Middle Last'||i, i*10,
	'{"b": '||i||',   "a" : {"y":1, "x":[1, 2.50]}}' FROM generate_series(1, %d) i`, n))
	}
	m := e.compile(b, customersRule)
	plain := change.Table{Schema: "public", Name: "plain"}
	for _, bc := range []struct {
		name     string
		table    change.Table
		parallel int
	}{{"mapped", customers, 1}, {"mapped-parallel4", customers, 4}, {"fast", plain, 1}} {
		b.Run(bc.name, func(b *testing.B) {
			o := Options{Tables: []change.Table{bc.table}, Mappings: map[change.Table]*transform.Mapping{customers: m},
				Parallel: bc.parallel, ChunkRows: 10000}
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if rep := e.run(b, o); rep.Tables[0].Matched != n {
					b.Fatalf("%+v", rep.Tables[0])
				}
			}
			b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "rows/s")
		})
	}
}
