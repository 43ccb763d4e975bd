package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// verify of a table with transforms and a green name on pairs with a
// MariaDB blue. Databases and configs are named it_vtm_*.

// vtmDDL: blue runs v1 of people (MariaDB, as tfmPeopleDDL), green runs
// v2 under another name, persons: the name split, email renamed, integer
// cents moved to a decimal price, and on a PostgreSQL green the types that
// differ by engine (TINYINT(1) ↔ boolean, JSON ↔ jsonb, DATETIME(6) ↔
// timestamptz).
var vtmDDL = map[string][]string{
	engineMy: {tfmPeopleDDL[engineMy][0], `CREATE TABLE {s}.persons (
	id            BIGINT PRIMARY KEY,
	first_name    VARCHAR(100) NOT NULL,
	last_name     VARCHAR(100) NOT NULL,
	email_address VARCHAR(100) NOT NULL,
	price         DECIMAL(12,2) NOT NULL,
	active        TINYINT(1) NOT NULL,
	doc           JSON,
	happened      DATETIME(6)
)`},
	enginePG: {strings.Replace(tfmPeopleDDL[enginePG][0], "{s}.people", "{s}.persons", 1)},
}

const vtmTables = `tables:
  - name: {s}.people
    green_name: {s}.persons
    transforms:
      blue_to_green:
        rename: {email: email_address}
        set:
          first_name: 'split_part(full_name, " ", 0)'
          last_name: 'trim(join(split(full_name, " ")[1:], " "))'
          price: 'unscaled(price_cents, 2)'
        drop: [full_name, price_cents]
`

// personsInBlueShape reads people on blue, or persons on green, as v1
// rows: id, full_name, email, price_cents, active 0/1, doc (normalised),
// happened in UTC to the microsecond.
func personsInBlueShape(ctx context.Context, db *sideDB) ([][]string, error) {
	var q string
	switch {
	case db.side == "blue":
		q = `SELECT id, full_name, email, price_cents, active, doc, DATE_FORMAT(happened, '%Y-%m-%d %H:%i:%s.%f') FROM people ORDER BY id`
	case db.engine == enginePG:
		q = `SELECT id, trim(first_name || ' ' || last_name), email_address, (price * 100)::bigint, active::int, doc::text,
	to_char(happened AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM persons ORDER BY id`
	default:
		q = `SELECT id, TRIM(CONCAT(first_name, ' ', last_name)), email_address, CAST(price * 100 AS SIGNED), active, doc,
	DATE_FORMAT(happened, '%Y-%m-%d %H:%i:%s.%f') FROM persons ORDER BY id`
	}
	rows, err := db.rows(ctx, q)
	for _, r := range rows {
		r[5] = normJSON(r[5])
	}
	return rows, err
}

// TestVerifyEnginesTransforms: a MariaDB blue synced one way to a
// PostgreSQL green (my_pg) and to a MariaDB green (my_my), people (v1) on
// blue to persons (v2) on green through a rename, computed columns and a
// dropped column. After the sync verify compares the table through its
// transform: consistent, every row matched, green's name reported. Then a
// missing row and changed values in mapped columns (the renamed email and
// the computed price) are planted on green, hidden from the sync: verify
// exits 1 naming exactly those keys and columns.
func TestVerifyEnginesTransforms(t *testing.T) {
	for _, p := range []enginePair{pairMyPG, pairMy} {
		t.Run(p.name, func(t *testing.T) { testVerifyEnginesTransforms(t, p) })
	}
}

func testVerifyEnginesTransforms(t *testing.T, pair enginePair) {
	ddl := map[string][]string{engineMy: vtmDDL[engineMy][:1], enginePG: vtmDDL[enginePG]}
	if pair.green == engineMy {
		ddl[engineMy] = vtmDDL[engineMy] // both databases get both tables; each side uses its own
	}
	e := newPairEnv(t, "vtm_"+pair.name, pair, ddl, itConfig{Directions: "blue-to-green"}, "people")
	e.withTables(vtmTables)
	e.setup()
	p := e.procs.startRun()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	if err := peopleWorkload(ctx, e.blue, seed, 1, 300); err != nil {
		t.Fatal(err)
	}
	cols := []string{"id", "full_name/first_name+last_name", "email/email_address", "price_cents/price", "active", "doc", "happened"}
	n := int64(waitColumnsEqual(t, e.blue, e.green, personsInBlueShape, cols, p.checkRunning))
	t.Logf("people (blue) and persons (green) equal column by column: %d rows", n)

	people, persons := e.cfg.Name+".people", e.cfg.Name+".persons"
	r, rep := runVerify(t, e.cfgPath, "--chunk-rows", "50", "--parallel", "2")
	if r.Code != 0 || rep.Status != "consistent" || len(rep.Tables) != 1 {
		t.Fatalf("verify after the sync: exit %d, status %s, %d tables; want 0, consistent, 1\n%s", r.Code, rep.Status, len(rep.Tables), r)
	}
	tb := rep.Tables[0]
	if tb.Table != people || tb.Green != persons || tb.Error != "" || tb.BlueRows != n || tb.GreenRows != n || tb.Matched != n {
		t.Fatalf("verify after the sync: %s → %s: blue %d, green %d, matched %d (error %q); want %s → %s, %d each",
			tb.Table, tb.Green, tb.BlueRows, tb.GreenRows, tb.Matched, tb.Error, people, persons, n)
	}
	t.Logf("consistent in %s: %s → %s, %d rows matched", r.Elapsed.Round(time.Millisecond), tb.Table, tb.Green, tb.Matched)

	rows, err := e.blue.rows(ctx, "SELECT id FROM people ORDER BY id")
	if err != nil || len(rows) < 3 {
		t.Fatalf("people on blue: %d rows, %v", len(rows), err)
	}
	ids := []string{rows[0][0], rows[len(rows)/2][0], rows[len(rows)-1][0]}
	concat := "email_address || 'x'"
	if e.green.engine == engineMy {
		concat = "CONCAT(email_address, 'x')"
	}
	e.hiddenGreen(t,
		"DELETE FROM persons WHERE id = "+ids[0],
		"UPDATE persons SET email_address = "+concat+" WHERE id = "+ids[1],
		"UPDATE persons SET price = price + 0.01 WHERE id = "+ids[2])
	want := []string{"missing_on_green:" + ids[0], "different:" + ids[1] + "[email_address]", "different:" + ids[2] + "[price]"}
	slices.Sort(want)

	r, rep = runVerify(t, e.cfgPath, "--chunk-rows", "50", "--parallel", "2", "--settle-timeout", "30s")
	if r.Code != 1 || rep.Status != "divergent" || len(rep.Tables) != 1 {
		t.Fatalf("verify after planting: exit %d, status %s; want 1, divergent\n%s", r.Code, rep.Status, r)
	}
	tb = rep.Tables[0]
	if got := rep.samples(people); !slices.Equal(got, want) {
		t.Errorf("%s samples:\n got %v\nwant %v", people, got, want)
	}
	if tb.MissingOnGreen != 1 || tb.MissingOnBlue != 0 || tb.Different != 2 || tb.InFlight != 0 || tb.Matched != n-3 || tb.GreenRows != n-1 {
		t.Errorf("%s: matched %d, missing on green %d, on blue %d, different %d, in flight %d, green rows %d; want %d, 1, 0, 2, 0, %d",
			people, tb.Matched, tb.MissingOnGreen, tb.MissingOnBlue, tb.Different, tb.InFlight, tb.GreenRows, n-3, n-1)
	}
	t.Logf("divergences found in %s: %v", r.Elapsed.Round(time.Millisecond), rep.samples(people))
	if err := p.checkRunning(); err != nil {
		t.Fatal(err)
	}
}
