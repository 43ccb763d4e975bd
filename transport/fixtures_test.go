package transport

import (
	"fmt"
	"math"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bgsync/bgsync/change"
)

// cmpOpts compares change values canonically (NaN equals NaN, nil and empty
// array elements are equal) and times by instant.
var cmpOpts = []cmp.Option{cmp.Comparer(change.Equal)}

var (
	accounts = change.Table{Schema: "public", Name: "accounts"}
	orders   = change.Table{Schema: "public", Name: "orders"}

	accountCols = []change.Column{
		{Name: "id", Type: "bigint", Key: true},
		{Name: "name", Type: "text"},
		{Name: "balance", Type: "numeric(12,2)"},
		{Name: "note", Type: "text"},
		{Name: "updated_at", Type: "timestamptz"},
		{Name: "tags", Type: "text[]"},
		{Name: "active", Type: "boolean"},
	}
	commitTime = time.Date(2025, 6, 1, 12, 34, 56, 123456000, time.UTC)
)

func accountRow(id int64, name string) change.Row {
	return change.Row{
		change.Int(id),
		change.Text(name),
		change.Numeric("1234.50"),
		change.Text("a long note that PostgreSQL would TOAST"),
		change.TimestampTZOf(commitTime),
		change.Array([]change.Value{change.Text("gold"), change.Null()}),
		change.Bool(true),
	}
}

// goldenRecords are the representative records kept in testdata/ as
// envelope_v1_<name>.hex.
func goldenRecords() map[string]Record {
	updated := accountRow(42, "Ada Lovelace")
	updated[2] = change.Numeric("-0.01")
	updated[3] = change.Unchanged()
	keyOnly := change.Row{change.Int(7), change.Absent(), change.Absent(), change.Absent(),
		change.Absent(), change.Absent(), change.Absent()}
	return map[string]Record{
		"insert": {
			TxnID: 771, Position: 0x16B3748, CommitTime: commitTime, TxnSize: 3,
			Change: change.Change{Op: change.OpInsert, Table: accounts, Columns: accountCols,
				After: accountRow(42, "Ada"), Seq: 1},
		},
		"update_toast": {
			TxnID: 772, Position: 0x16B3900, CommitTime: commitTime, Origin: "bgsync_green_1", TxnSize: 1,
			Change: change.Change{Op: change.OpUpdate, Table: accounts, Columns: accountCols,
				Before: accountRow(42, "Ada"), After: updated},
		},
		"delete": {
			TxnID: 1 << 40, Position: 0xFFFFFFFF00000010, CommitTime: commitTime, TxnSize: 100000,
			Change: change.Change{Op: change.OpDelete, Table: accounts, Columns: accountCols,
				Before: keyOnly, Seq: 99999},
		},
		"delete_timed": { // a MariaDB delete two seconds before its COMMIT
			TxnID: 12, Position: 0x2000000, CommitTime: commitTime, TxnSize: 2,
			Change: change.Change{Op: change.OpDelete, Table: accounts, Columns: accountCols,
				Before: keyOnly, Seq: 1, Time: commitTime.Truncate(time.Second).Add(-2 * time.Second)},
		},
		"truncate": {
			TxnID: 9, Position: 0x2000000, CommitTime: commitTime.Add(time.Second), TxnSize: 1,
			Change: change.Change{Op: change.OpTruncate, Table: accounts,
				Truncate: []change.Table{accounts, orders}, Cascade: true, RestartIdentity: true},
		},
	}
}

var orderCols = []change.Column{
	{Name: "id", Type: "uuid", Key: true},
	{Name: "line", Type: "integer", Key: true},
	{Name: "amount", Type: "double precision"},
	{Name: "payload", Type: "jsonb"},
	{Name: "raw", Type: "bytea"},
	{Name: "at", Type: "interval"},
}

// makeTxn builds a transaction of n changes mixing inserts, updates and
// deletes over two tables; seed makes the values differ between txns.
func makeTxn(id uint64, pos change.Position, n int) *change.Txn {
	t := &change.Txn{ID: id, Position: pos, CommitTime: commitTime.Add(time.Duration(id) * time.Microsecond),
		Changes: make([]change.Change, n)}
	if id%3 == 0 {
		t.Origin = "bgsync_blue_0"
	}
	for i := range t.Changes {
		c := &t.Changes[i]
		c.Seq = uint32(i)
		k := int64(id)*1_000_000 + int64(i)
		switch i % 4 {
		case 0:
			*c = change.Change{Op: change.OpInsert, Table: accounts, Columns: accountCols,
				After: accountRow(k, fmt.Sprintf("name-%d", k)), Seq: uint32(i)}
		case 1:
			after := accountRow(k, "renamed")
			after[3] = change.Unchanged()
			*c = change.Change{Op: change.OpUpdate, Table: accounts, Columns: accountCols,
				After: after, Seq: uint32(i)}
		case 2:
			var u [16]byte
			u[0], u[15] = byte(id), byte(i)
			*c = change.Change{Op: change.OpInsert, Table: orders, Columns: orderCols, Seq: uint32(i),
				After: change.Row{change.UUID(u), change.Int(int64(i)), change.Float(math.Pi * float64(i)),
					change.JSON(`{"k":1}`), change.Bytes([]byte{0, 1, 2, byte(i)}), change.Interval(1, 2, 3)}}
		case 3:
			before := make(change.Row, len(accountCols))
			for j := range before {
				before[j] = change.Absent()
			}
			before[0] = change.Int(k - 3)
			*c = change.Change{Op: change.OpDelete, Table: accounts, Columns: accountCols,
				Before: before, Seq: uint32(i)}
		}
	}
	return t
}

func cmpDiff(want, got any) string { return cmp.Diff(want, got, cmpOpts...) }
