package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// check-transforms on pairs with a MariaDB side. Databases and configs are
// named it_ctx_*. No setup runs: check-transforms needs none.

// ctxContactsDDL is a table of the same shape on both sides, with a
// TINYINT(1) ↔ boolean column.
var ctxContactsDDL = map[string]string{
	engineMy: `CREATE TABLE {s}.contacts (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL, name VARCHAR(100),
	vip TINYINT(1) NOT NULL DEFAULT 0)`,
	enginePG: `CREATE TABLE {s}.contacts (id bigint PRIMARY KEY, email varchar(100) NOT NULL, name text,
	vip boolean NOT NULL DEFAULT false)`,
}

// ctxTables: contacts' email is lower-cased on the way to green (a
// computed column that does not come back), the way back copies; items
// has no transform (between two engines: the implicit conversions).
const ctxTables = `tables:
  - name: {s}.contacts
    transforms:
      blue_to_green:
        set:
          email: 'lower(email)'
  - name: {s}.items
`

// contact is one row of contacts, written as engine's literals.
func contact(engine string, id int, email, name string, vip int) string {
	n := "NULL"
	if name != "" {
		n = "'" + name + "'"
	}
	v := fmt.Sprint(vip)
	if engine == enginePG {
		v = fmt.Sprint(vip != 0)
	}
	return fmt.Sprintf("INSERT INTO contacts VALUES (%d, '%s', %s, %s)", id, email, n, v)
}

// TestCheckTransformsEngines runs check-transforms on my_pg, my_my and
// pg_my pairs. On each: contacts rows whose email is not lower case are
// lossy from blue (key and column named, with both values and the
// expression), green's rows are not; a TINYINT(1) holding 5 on the
// MariaDB side of a mixed pair fails the implicit conversion to boolean
// (key, transform, target and column named) and between two MariaDB sides
// is copied as it is; items, with no transform, round-trips its engine
// conversions (TINYINT(1) ↔ boolean, DATETIME(6) ↔ timestamptz, JSON ↔
// jsonb, DECIMAL ↔ numeric, INT UNSIGNED ↔ bigint, BLOB ↔ bytea) with no
// lossy row; --sample stops a MariaDB read at its count, 0 reads all.
func TestCheckTransformsEngines(t *testing.T) {
	for _, p := range []enginePair{pairMyPG, pairMy, {"pg_my", enginePG, engineMy}} {
		t.Run(p.name, func(t *testing.T) { testCheckTransformsEngines(t, p) })
	}
}

func testCheckTransformsEngines(t *testing.T, p enginePair) {
	ddl := map[string][]string{}
	for _, eng := range []string{engineMy, enginePG} {
		ddl[eng] = []string{ctxContactsDDL[eng], itemsDDL[eng][0]}
	}
	e := newPairEnv(t, "ctx_"+p.name, p, ddl, itConfig{}, "contacts", "items")
	e.withTables(ctxTables)
	schema := e.cfg.Name
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// contacts: ids 2 and 5 are lossy from blue; the TINYINT(1) 5 goes on
	// the MariaDB side (blue, or green on pg_my) as id 4 or 12.
	b, g := e.blue.engine, e.green.engine
	e.blue.mustExec(t, contact(b, 1, "ada@example.com", "Ada Lovelace", 1), contact(b, 2, "Grace@Example.com", "Grace Hopper", 0),
		contact(b, 3, "alan@example.com", "Alan  Turing", 0), contact(b, 5, "Edsger@Example.com", "", 1))
	e.green.mustExec(t, contact(g, 10, "mary@example.com", "Mary Ann Evans", 1), contact(g, 11, "ok@example.com", "Ok", 0))
	badKey, badFrom, badHop, badTarget := "id=4", "blue", "blue_to_green", schema+".contacts"
	if b == engineMy {
		e.blue.mustExec(t, contact(b, 4, "bad@example.com", "Bad Bool", 5))
	} else {
		e.green.mustExec(t, contact(g, 12, "bad@example.com", "Bad Bool", 5))
		badKey, badFrom, badHop = "id=12", "green", "green_to_blue"
	}
	mixed := b != g

	// items: 1500 rows on blue, 300 on green, each side's own literals.
	for _, s := range []struct {
		db      *sideDB
		first   int64
		n       int
		seedMix uint64
	}{{e.blue, 1, 1500, 0}, {e.green, 1_000_000, 300, 0x5eed}} {
		w := newBinlogWorkload(uint64(7)^s.seedMix, s.db.side, s.first, 0)
		for done := 0; done < s.n; done += 100 {
			var vals []string
			for range 100 {
				vals = append(vals, w.newItem().values(s.db.engine))
			}
			if err := s.db.tx(ctx, "INSERT INTO items (id, qty, price, flag, happened, doc, note, payload) VALUES "+strings.Join(vals, ", ")); err != nil {
				t.Fatal(err)
			}
		}
	}

	r, rep := runCheckTransforms(t, e.cfgPath)
	if r.Code != 1 || rep.Status != "lossy" {
		t.Fatalf("want exit 1 and status lossy, got exit %d, status %q\n%s", r.Code, rep.Status, r)
	}
	if len(rep.Checks) != 4 {
		t.Fatalf("want 4 checks (2 tables × 2 sides), got %d\n%s", len(rep.Checks), r)
	}
	type sample struct{ key, column, orig, after string }
	for _, c := range rep.Checks {
		t.Logf("%s from %s: %d rows checked, %d lossy (%d failed), columns %v, not round-tripped %v, error %q",
			c.Table, c.From, c.RowsChecked, c.LossyRows, c.FailedRows, c.LossyColumns, c.NotRoundTripped, c.Error)
		if c.Error != "" {
			t.Errorf("%s from %s: could not read: %s", c.Table, c.From, c.Error)
		}
		var got []sample
		for _, s := range c.Samples {
			x := sample{key: s.Key, column: s.Column}
			if s.Original != nil {
				x.orig = *s.Original
			}
			if s.RoundTrip != nil {
				x.after = *s.RoundTrip
			}
			if s.Error != "" {
				x.after = "error in " + s.Transform + " to " + s.Target
				if !strings.Contains(s.Error, "tinyint(1)") {
					t.Errorf("%s from %s: failure %q does not say it is the tinyint(1)", c.Table, c.From, s.Error)
				}
			}
			if len(s.Expressions) == 0 {
				t.Errorf("%s from %s: sample %+v names no transform entry", c.Table, c.From, s)
			}
			got = append(got, x)
		}
		var want []sample
		var rows, lossy, failed int64
		switch {
		case c.Table == schema+".items":
			rows, lossy = map[string]int64{"blue": 1000, "green": 300}[c.From], 0 // --sample's default is 1000
		case c.From == "blue":
			rows, lossy = 4, 2
			want = []sample{{"id=2", "email", "Grace@Example.com", "grace@example.com"}, {"id=5", "email", "Edsger@Example.com", "edsger@example.com"}}
		default:
			rows, lossy = 2, 0
		}
		if c.Table == schema+".contacts" && c.From == badFrom {
			rows++
			if mixed {
				lossy, failed = lossy+1, 1
				bad := sample{badKey, "vip", "", "error in " + badHop + " to " + badTarget}
				if badFrom == "blue" { // rows come in key order: 2, 4, 5
					want = []sample{want[0], bad, want[1]}
				} else {
					want = append(want, bad)
				}
			}
		}
		if c.RowsChecked != rows || c.LossyRows != lossy || c.FailedRows != failed {
			t.Errorf("%s from %s: want %d rows checked, %d lossy (%d failed), got %d, %d (%d)",
				c.Table, c.From, rows, lossy, failed, c.RowsChecked, c.LossyRows, c.FailedRows)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s from %s: samples\n got %v\nwant %v", c.Table, c.From, got, want)
		}
		if c.Table == schema+".contacts" && c.From == "blue" && (c.LossyColumns["email"] != 2 || len(c.LossyColumns) != 1) {
			t.Errorf("contacts from blue: want lossy columns {email: 2}, got %v", c.LossyColumns)
		}
		if len(c.NotRoundTripped) != 0 {
			t.Errorf("%s from %s: want every column round-tripped, got %v not", c.Table, c.From, c.NotRoundTripped)
		}
	}
	driverNoise(t, r)

	// The text report, every row.
	r = runBgsync(t, 2*time.Minute, "check-transforms", "--config", e.cfgPath, "--sample", "0")
	if r.Code != 1 {
		t.Fatalf("--sample 0: want exit 1\n%s", r)
	}
	t.Logf("text report:\n%s", r.Stdout)
	for _, s := range []string{
		schema + `.contacts id=2 email: "Grace@Example.com" → "grace@example.com"`,
		"blue_to_green set email = lower(email)",
		"blue→green→blue: 1500 rows checked, 0 lossy",
		"green→blue→green: 300 rows checked, 0 lossy",
	} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("text report lacks %q", s)
		}
	}
	if mixed && !strings.Contains(r.Stdout, fmt.Sprintf("%s.contacts %s: %s at %s.vip failed", schema, badKey, badHop, badTarget)) {
		t.Errorf("text report does not name the failed conversion of %s's vip", badKey)
	}
	driverNoise(t, r)

	// items alone: nothing lossy, exit 0.
	r, rep = runCheckTransforms(t, e.cfgPath, "--tables", schema+".items", "--sample", "0")
	if r.Code != 0 || rep.Status != "lossless" {
		t.Errorf("items alone: want exit 0, lossless\n%s", r)
	}
	for _, c := range rep.Checks {
		t.Logf("items from %s: %d rows checked, %d lossy", c.From, c.RowsChecked, c.LossyRows)
	}
}

// driverNoise fails t when the MariaDB driver logged to bgsync's stderr
// (a read stopped at --sample drops its connection).
func driverNoise(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{"[mysql]", "invalid connection", "packets.go"} {
		if strings.Contains(r.Stderr, s) {
			t.Errorf("stderr has driver noise %q:\n%s", s, r.Stderr)
		}
	}
}
