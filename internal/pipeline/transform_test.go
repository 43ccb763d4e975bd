package pipeline

import (
	"errors"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/transform"
)

func TestMapTxns(t *testing.T) {
	blue := change.Table{Schema: "public", Name: "customers"}
	green := change.Table{Schema: "public", Name: "clients"}
	other := change.Table{Schema: "public", Name: "other"}
	src := []transform.Column{{Name: "id", Type: "integer", Key: true}, {Name: "attrs", Type: "text"}}
	dst := []transform.Column{{Name: "id", Type: "integer", Key: true}, {Name: "attrs", Type: "jsonb"}}
	m, probs := transform.Compile(transform.Rule{Source: blue, Target: green}, src, dst)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	cols := []change.Column{{Name: "id", Key: true}, {Name: "attrs"}}
	ins := func(table change.Table, id int64, attrs string) change.Change {
		return change.Change{Op: change.OpInsert, Table: table, Columns: cols, After: change.Row{change.Int(id), change.Text(attrs)}}
	}
	txn := func() *change.Txn {
		return &change.Txn{Position: 42, Changes: []change.Change{
			ins(blue, 1, `{"b":1,"a":2}`), ins(other, 2, "x"), ins(blue, 3, "not json"),
			{Op: change.OpTruncate, Table: blue, Truncate: []change.Table{blue, other}},
		}}
	}
	for _, dead := range []bool{false, true} {
		ms := newMappers(&Config{Transforms: map[change.Table]*transform.Mapping{blue: m}, DeadLetter: map[change.Table]bool{blue: dead}})
		tx := txn()
		dls, err := ms.mapTxns("blue-to-green", change.Position.String, []*change.Txn{tx})
		if !dead {
			var te *TransformError
			if !errors.As(err, &te) || te.Key != "(id)=(3)" || te.Table != blue || te.Position != 42 ||
				!strings.Contains(err.Error(), "column attrs") || !strings.Contains(err.Error(), "source position 0/2A") {
				t.Fatalf("pause: got %v", err)
			}
			continue
		}
		if err != nil || len(dls) != 1 || dls[0].Change.Table != blue || dls[0].Column != "attrs" || string(dls[0].Key()) != `{"id":"3"}` {
			t.Fatalf("dead letter: %v %+v", err, dls)
		}
		got := tx.Changes
		if len(got) != 3 || got[0].Table != green || got[0].After[1].S != `{"b":1,"a":2}` || got[1].Table != other ||
			got[2].Table != green || got[2].Truncate[0] != green || got[2].Truncate[1] != other {
			t.Errorf("mapped txn: %+v", got)
		}
	}
}

// Between MariaDB and PostgreSQL a table with no transform gets
// transform.Implicit's mapping: an update's images reach the applier in
// the target's kinds, so its before image compares like with like; a
// value that does not convert pauses (or dead-letters) naming table, key,
// column and the binlog position as MariaDB prints it.
func TestMapTxnsImplicit(t *testing.T) {
	items := change.Table{Schema: "shop", Name: "items"}
	my := []transform.Column{
		{Name: "id", Type: "bigint", Key: true, MySQL: &transform.MySQLType{DataType: "bigint", ColumnType: "bigint(20)"}},
		{Name: "flag", Type: "smallint", MySQL: &transform.MySQLType{DataType: "tinyint", ColumnType: "tinyint(1)"}},
		{Name: "doc", Type: "json", MySQL: &transform.MySQLType{DataType: "longtext", ColumnType: "longtext", JSON: true}},
	}
	pg := []transform.Column{{Name: "id", Type: "bigint", Key: true}, {Name: "flag", Type: "boolean"}, {Name: "doc", Type: "jsonb"}}
	cols := []change.Column{{Name: "id", Key: true}, {Name: "flag"}, {Name: "doc"}}
	upd := func(flag int64) change.Change {
		return change.Change{Op: change.OpUpdate, Table: items, Columns: cols,
			Before: change.Row{change.Int(1), change.Int(0), change.Text(`{"b":1,"a":2}`)},
			After:  change.Row{change.Int(1), change.Int(flag), change.Text(`{"b":1,"a":2}`)}}
	}
	ms := newMappers(&Config{Transforms: map[change.Table]*transform.Mapping{items: transform.Implicit(items, items, my, pg)}})
	tx := &change.Txn{Position: 3<<32 | 1234, Changes: []change.Change{upd(1)}}
	if _, err := ms.mapTxns("blue-to-green", change.Position.String, []*change.Txn{tx}); err != nil {
		t.Fatal(err)
	}
	got := tx.Changes[0]
	want := change.Row{change.Int(1), change.Bool(false), change.JSON(`{"a": 2, "b": 1}`)}
	for i := range want {
		if !change.Equal(got.Before[i], want[i]) {
			t.Errorf("before %s = %+v, want %+v", cols[i].Name, got.Before[i], want[i])
		}
	}
	if !change.Equal(got.After[1], change.Bool(true)) {
		t.Errorf("after flag = %+v, want true", got.After[1])
	}
	tx = &change.Txn{Position: 3<<32 | 1234, Changes: []change.Change{upd(7)}}
	binlogPos := func(change.Position) string { return "mysql-bin.000003:1234" }
	_, err := ms.mapTxns("blue-to-green", binlogPos, []*change.Txn{tx})
	var te *TransformError
	if !errors.As(err, &te) {
		t.Fatalf("a 7 bound for a boolean: got %v", err)
	}
	for _, w := range []string{"type conversion failed", "shop.items", "(id)=(1)", "column flag", "mysql-bin.000003:1234", "7 in a tinyint(1)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the pause does not say %q: %v", w, err)
		}
	}
	// Same engine, same types: nothing to run per row.
	if ms := newMappers(&Config{Transforms: map[change.Table]*transform.Mapping{items: transform.Implicit(items, items, my, my)}}); !ms.empty() {
		t.Error("an identity mapping is run")
	}
}
