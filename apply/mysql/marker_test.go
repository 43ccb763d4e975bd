package mysql

import (
	"testing"

	"github.com/bgsync/bgsync/change"
)

func TestEchoByMarker(t *testing.T) {
	marker := change.Table{Schema: "bgsync", Name: MarkerTableName}
	app := change.Table{Schema: "shop", Name: "orders"}
	cases := []struct {
		name string
		txn  change.Txn
		want bool
	}{
		{"application transaction", change.Txn{Changes: []change.Change{{Op: change.OpInsert, Table: app}}}, false},
		{"empty", change.Txn{}, false},
		{"marker first", change.Txn{Changes: []change.Change{{Op: change.OpUpdate, Table: marker}, {Op: change.OpInsert, Table: app}}}, true},
		{"marker inserted last", change.Txn{Changes: []change.Change{{Op: change.OpInsert, Table: app}, {Op: change.OpInsert, Table: marker}}}, true},
		{"another schema's marker", change.Txn{Changes: []change.Change{{Op: change.OpUpdate, Table: change.Table{Schema: "other", Name: MarkerTableName}}}}, false},
		{"marker truncated", change.Txn{Changes: []change.Change{{Op: change.OpTruncate, Table: app, Truncate: []change.Table{app, marker}}}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := EchoByMarker(&c.txn, "bgsync"); got != c.want {
				t.Fatalf("EchoByMarker = %v, want %v", got, c.want)
			}
		})
	}
	if !IsMarker(marker, "bgsync") || IsMarker(app, "bgsync") {
		t.Fatal("IsMarker")
	}
}

func tbl(s, n string) change.Table { return change.Table{Schema: s, Name: n} }
