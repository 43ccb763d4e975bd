package mysql_test

import (
	"context"
	"testing"

	"github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

func TestSameJSON(t *testing.T) {
	j, s := change.JSON, change.Text
	cases := []struct {
		name string
		a, b change.Value
		want bool
	}{
		{"equal texts", s(`{"a":1}`), s(`{"a":1}`), true},
		{"key order and spacing", s(`{"b": [1, 2],"a":1}`), s(`{"a": 1, "b": [1, 2]}`), true},
		{"nested objects", s(`{"o":{"z":{"y":1,"x":[{"q":1,"p":2}]}}}`), j(`{"o": {"z": {"x": [{"p": 2, "q": 1}], "y": 1}}}`), true},
		{"json and text kinds", j(`{"a": 1}`), s(`{ "a" : 1 }`), true},
		{"exponent", s(`[1e2, 1.5E-3, 2.50e1]`), s(`[100, 0.0015, 25.0]`), true},
		{"negative zero", s(`-0`), s(`0`), true},
		{"beyond float64", s(`12345678901234567890`), s(`1.2345678901234567890e19`), true},
		{"unicode escapes", s(`"caf\u00e9 \ud83d\ude80 \/"`), s(`"café 🚀 /"`), true},
		{"duplicate keys: the last counts", s(`{"a":1,"a":2}`), s(`{"a": 2}`), true},
		{"empty containers", s(`{ "a" : [ ], "b" : { } }`), s(`{"a": [], "b": {}}`), true},
		{"null values", change.Null(), change.Null(), true},

		{"different value", s(`{"a":1}`), s(`{"a":2}`), false},
		{"scale is kept, as jsonb keeps it", s(`{"n":1.0}`), s(`{"n": 1}`), false},
		{"array order matters", s(`[1, 2]`), s(`[2, 1]`), false},
		{"missing key", s(`{"a":1,"b":null}`), s(`{"a": 1}`), false},
		{"string vs number", s(`{"a":"1"}`), s(`{"a": 1}`), false},
		{"NULL vs JSON null", change.Null(), s(`null`), false},
		{"invalid JSON: text compare, different", s(`{"a":1`), s(`{"a": 1}`), false},
		{"invalid JSON: text compare, equal", s(`{"a":1`), s(`{"a":1`), true},
		{"\\u0000 jsonb cannot hold: text compare", s(`"\u0000"`), s(`"\u0000" `), false},
		{"text after the value", s(`{"a":1}}`), s(`{"a": 1}`), false},
		{"other kinds are not JSON", change.Int(1), s(`1`), false},
	}
	for _, c := range cases {
		if got := mysql.SameJSON(c.a, c.b); got != c.want {
			t.Errorf("%s: SameJSON(%v, %v) = %v, want %v", c.name, c.a, c.b, got, c.want)
		}
		if got := mysql.SameJSON(c.b, c.a); got != c.want {
			t.Errorf("%s: SameJSON(%v, %v) = %v, want %v (reversed)", c.name, c.b, c.a, got, c.want)
		}
	}
}

// TestReadTableJSON: MariaDB's JSON is a longtext with a json_valid check;
// ReadTable knows it as JSON, a plain longtext or another check not.
// Such a column reads as KindJSON on its own (verify), and as the text
// capture/mysql sends when nothing is to be followed (ReadRow).
func TestReadTableJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "CREATE TABLE docs (id INT PRIMARY KEY, doc JSON, plain LONGTEXT, other LONGTEXT CHECK (other <> ''), `odd name` JSON NOT NULL)")
	tt, err := mysql.ReadTable(context.Background(), e.db, e.table("docs"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"id": false, "doc": true, "plain": false, "other": false, "odd name": true} {
		c, _ := tt.Column(name)
		if c.JSON != want {
			t.Errorf("column %s: JSON = %v, want %v", name, c.JSON, want)
		}
	}
	doc, _ := tt.Column("doc")
	if k := doc.Kind(); k != change.KindJSON {
		t.Errorf("doc.Kind() = %s, want json", k)
	}
	for like, want := range map[change.Kind]change.Kind{change.KindNull: change.KindText, change.KindText: change.KindText, change.KindJSON: change.KindJSON} {
		if v, err := mysql.Decode(doc, []byte(`{"a":1}`), change.Value{Kind: like}); err != nil || v.Kind != want || v.S != `{"a":1}` {
			t.Errorf("Decode(doc, like %s) = %v, %v; want %s holding the text", like, v, err, want)
		}
	}
}

// TestJSONConflicts: a JSON column on the target is compared by the data
// it holds: the application's text on MariaDB and the jsonb text a
// PostgreSQL source carries (as the mapping gives it: text) are the same
// document, so no conflict is raised, while a document with other data
// still is one. A LONGTEXT that is not declared JSON is compared as text.
func TestJSONConflicts(t *testing.T) {
	t.Parallel()
	const stored = `{"b":[1, 2.50,{"y":1e2}],"a":"caf\u00e9"}`
	const jsonb = `{"a": "café", "b": [1, 2.50, {"y": 100}]}`
	cols := []change.Column{{Name: "id", Key: true}, {Name: "doc"}, {Name: "n"}}
	row := func(doc string, n int64) change.Row {
		return change.Row{change.Int(1), change.Text(doc), change.Int(n)}
	}
	manual := conflict.Rule{Policy: conflict.Manual}
	cases := []struct {
		name   string
		ddl    string
		rule   conflict.Rule
		change change.Change
		label  mysql.ConflictLabel // zero: no conflict
		want   string              // the row afterwards: doc|n
	}{
		{"update of another column", "JSON", manual,
			change.Change{Op: change.OpUpdate, Columns: cols, Before: row(jsonb, 1), After: row(jsonb, 2)},
			mysql.ConflictLabel{}, jsonb + "|2"},
		{"update of the JSON column only", "JSON", manual,
			change.Change{Op: change.OpUpdate, Columns: cols, Before: row(jsonb, 1), After: row(`{"c": 3}`, 1)},
			mysql.ConflictLabel{}, `{"c": 3}|1`},
		{"delete", "JSON", manual,
			change.Change{Op: change.OpDelete, Columns: cols, Before: row(jsonb, 1)},
			mysql.ConflictLabel{}, ""},
		{"insert of the same row: converged", "JSON", manual,
			change.Change{Op: change.OpInsert, Columns: cols, After: row(jsonb, 1)},
			mysql.ConflictLabel{Kind: "insert_exists", Resolution: "converged"}, stored + "|1"},
		{"other data still conflicts", "JSON", manual,
			change.Change{Op: change.OpUpdate, Columns: cols, Before: row(`{"a": "café", "b": [1, 2.5, {"y": 100}]}`, 1), After: row(jsonb, 2)},
			mysql.ConflictLabel{Kind: "update_differs", Resolution: "unresolved"}, stored + "|1"},
		{"column-merge: the JSON column is not modified", "JSON", conflict.Rule{Policy: conflict.ColumnMerge},
			change.Change{Op: change.OpUpdate, Columns: cols, Before: row(jsonb, 0), After: row(`{"a":"café","b":[1,2.50,{"y":100}]}`, 2)},
			mysql.ConflictLabel{Kind: "update_differs", Resolution: "incoming_wins"}, stored + "|2"},
		{"a LONGTEXT is compared as text", "LONGTEXT", manual,
			change.Change{Op: change.OpUpdate, Columns: cols, Before: row(jsonb, 1), After: row(jsonb, 2)},
			mysql.ConflictLabel{Kind: "update_differs", Resolution: "unresolved"}, stored + "|1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "CREATE TABLE docs (id INT PRIMARY KEY, doc "+c.ddl+", n INT)")
			if _, err := e.db.Exec("INSERT INTO docs VALUES (1, ?, 1)", stored); err != nil {
				t.Fatal(err)
			}
			docs := e.table("docs")
			a := e.open(func(cfg *mysql.Config) { cfg.DefaultRule = c.rule })
			ch := c.change
			ch.Table = docs
			res := e.apply(a, txn(10, ch))
			if c.label == (mysql.ConflictLabel{}) {
				if len(res.Conflicts) != 0 {
					t.Errorf("conflicts %v, want none", res.Conflicts)
				}
			} else if res.Conflicts[c.label] != 1 || len(res.Conflicts) != 1 {
				t.Errorf("conflicts %v, want one %v", res.Conflicts, c.label)
			}
			var want []string
			if c.want != "" {
				want = []string{c.want}
			}
			if got := e.rows("SELECT doc, n FROM docs"); !equalStrings(got, want) {
				t.Errorf("rows %q, want %q", got, want)
			}
		})
	}
}
