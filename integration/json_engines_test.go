package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestJSONEngines: a JSON document moves both ways between MariaDB (JSON
// is a longtext checked by json_valid: the text is stored as written) and
// PostgreSQL (jsonb prints its own text: keys sorted, one layout, numbers
// as numeric prints them, escapes decoded), so the text a before image
// carries differs from the text the other side holds, yet the data is the
// same. Neither applier may take that for a conflict. The tables' policy
// is manual, so a false conflict also shows as a row left unchanged (the
// incoming change never applied): each step must arrive with no conflict
// logged on either side, and the sides must end holding the same data.
func TestJSONEngines(t *testing.T) {
	e := newPairEnv(t, "json_my_pg", pairMyPG, itemsDDL, itConfig{Directions: "both", Policy: "manual"}, "items", "txlog")
	e.setup()
	run := e.procs.startRun()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	my, pg := e.blue, e.green

	// Documents whose MariaDB text is far from jsonb's: key order,
	// spacing, nesting, exponents, trailing zeros, negative zero, a
	// number beyond float64, \u escapes (a surrogate pair too), an
	// escaped slash, empty containers.
	docs := []string{
		`{"b":[1, 2.50,{"y":1e2,"x":-0}],"a":"caf\u00e9 \ud83d\ude80","nested":{ "k" : null , "t":true}}`,
		`{ "z" : 12345678901234567890, "a":[ ], "m":{ }, "s":"a\/b", "e": 1.5E-3 }`,
		`[ {"b":1,"a":2}, "x", 0.10 ]`,
		`{"n":1.0,"big":1E+2,"neg":-2.5e1}`,
	}
	txn := int64(0)
	// step commits stmts and a txlog row on side, and waits until the other
	// side has applied that transaction.
	step := func(what string, on *sideDB, stmts ...string) {
		t.Helper()
		txn++
		stmts = append(stmts, fmt.Sprintf("INSERT INTO txlog VALUES (%d, '%s')", txn, on.side))
		if err := on.tx(ctx, stmts...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		other := pg
		if on == pg {
			other = my
		}
		waitFor(t, time.Minute, fmt.Sprintf("%s to reach %s", what, other.side), func() bool {
			if err := run.checkRunning(); err != nil {
				t.Fatal(err)
			}
			n, err := other.count(ctx, fmt.Sprintf("SELECT count(*) FROM txlog WHERE txn = %d", txn))
			return err == nil && n == 1
		})
	}
	insert := func(s *sideDB, id int64, doc string) string {
		return fmt.Sprintf("INSERT INTO items (id, qty, doc, note) VALUES (%d, 1, %s, 'new')", id, sqlLit(s, doc))
	}

	// 1: made on MariaDB; PostgreSQL changes another column (the JSON is
	// in the before image only).
	step("insert 1 on MariaDB", my, insert(my, 1, docs[0]))
	step("update of 1's note on PostgreSQL", pg, "UPDATE items SET note = 'pg' WHERE id = 1")
	// 2: made on MariaDB; PostgreSQL changes only the JSON column.
	step("insert 2 on MariaDB", my, insert(my, 2, docs[1]))
	step("update of 2's doc on PostgreSQL", pg, "UPDATE items SET doc = "+sqlLit(pg, docs[3])+" WHERE id = 2")
	// MariaDB changes it back (its before image: the text bgsync wrote).
	step("update of 2's doc on MariaDB", my, "UPDATE items SET doc = "+sqlLit(my, docs[2])+" WHERE id = 2")
	// 3: made on PostgreSQL; MariaDB writes JSON in its own spelling;
	// PostgreSQL changes another column, then deletes the row.
	step("insert 3 on PostgreSQL", pg, insert(pg, 3, docs[2]))
	step("update of 3's doc on MariaDB", my, "UPDATE items SET doc = "+sqlLit(my, docs[0])+" WHERE id = 3")
	step("update of 3's note on PostgreSQL", pg, "UPDATE items SET note = 'pg' WHERE id = 3")
	step("delete of 3 on PostgreSQL", pg, "DELETE FROM items WHERE id = 3")
	// 4: made on MariaDB; MariaDB changes another column (the PostgreSQL
	// applier compares MariaDB's text with its jsonb).
	step("insert 4 on MariaDB", my, insert(my, 4, docs[3]))
	step("update of 4's qty on MariaDB", my, "UPDATE items SET qty = 2 WHERE id = 4")
	// 5: made on MariaDB, deleted on PostgreSQL.
	step("insert 5 on MariaDB", my, insert(my, 5, docs[1]))
	step("delete of 5 on PostgreSQL", pg, "DELETE FROM items WHERE id = 5")

	for _, s := range []*sideDB{my, pg} {
		key := "key::text"
		if s.engine == engineMy {
			key = "`key`"
		}
		rows, err := s.rows(ctx, "SELECT kind, "+key+", resolution, reason FROM "+e.cfg.Name+".conflicts ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			t.Errorf("%s (%s) logged a conflict: %s on %s, %s: %s", s.side, s.engine, r[0], r[1], r[2], r[3])
		}
	}
	read := func(s *sideDB) map[string][2]string {
		rows, err := s.rows(ctx, "SELECT id, qty, note, doc FROM items ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][2]string{}
		for _, r := range rows {
			out[r[0]] = [2]string{r[1] + "|" + r[2], r[3]}
		}
		return out
	}
	mine, theirs := read(my), read(pg)
	if len(mine) != 3 || len(theirs) != 3 {
		t.Errorf("rows: MariaDB %v, PostgreSQL %v; want ids 1, 2 and 4 on each", mine, theirs)
	}
	for id, m := range mine {
		p, ok := theirs[id]
		switch {
		case !ok:
			t.Errorf("id %s: on MariaDB only", id)
		case m[0] != p[0]:
			t.Errorf("id %s: qty|note MariaDB %s, PostgreSQL %s", id, m[0], p[0])
		case !sameJSON(m[1], p[1]):
			t.Errorf("id %s: doc MariaDB %s, PostgreSQL %s: different data", id, m[1], p[1])
		default:
			t.Logf("id %s: MariaDB holds %s, PostgreSQL %s", id, m[1], p[1])
		}
	}
	if code := run.stop(30 * time.Second); code != 0 {
		t.Errorf("bgsync run exited %d after SIGTERM, want 0\n%s", code, tailLines(run.output(), 30))
	}
}

// sqlLit quotes s as a string literal of s's engine (MariaDB reads
// backslashes as escapes).
func sqlLit(s *sideDB, v string) string {
	if s.engine == engineMy {
		v = strings.ReplaceAll(v, `\`, `\\`)
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// sameJSON reports whether two JSON texts hold the same data: objects
// with the same members in any order, numbers by value (1.0 = 1 = 1e0,
// beyond float64 too), strings after their escapes.
func sameJSON(a, b string) bool {
	parse := func(s string) (any, bool) {
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var v any
		return v, d.Decode(&v) == nil && !d.More()
	}
	x, ok1 := parse(a)
	y, ok2 := parse(b)
	return ok1 && ok2 && sameJSONValue(x, y)
}

func sameJSONValue(x, y any) bool {
	switch x := x.(type) {
	case json.Number:
		y, ok := y.(json.Number)
		if !ok {
			return false
		}
		rx, ok1 := new(big.Rat).SetString(string(x))
		ry, ok2 := new(big.Rat).SetString(string(y))
		return ok1 && ok2 && rx.Cmp(ry) == 0
	case []any:
		y, ok := y.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSONValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := y.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameJSONValue(v, w) {
				return false
			}
		}
		return true
	}
	return x == y // nil, bool, string
}
