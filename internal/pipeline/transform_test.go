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
		dls, err := ms.mapTxns("blue-to-green", []*change.Txn{tx})
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
