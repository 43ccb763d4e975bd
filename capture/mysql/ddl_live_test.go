package mysql_test

import (
	"errors"
	"strings"
	"testing"

	capmy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/google/go-cmp/cmp"
)

func TestAlterStopsWithSchemaChangeError(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY)`, `CREATE TABLE other (id INT PRIMARY KEY)`)
	r := start(t, d, 0, nil, "a")
	d.exec(t, `INSERT INTO a VALUES (1)`,
		`ALTER TABLE other ADD COLUMN x INT`, // not captured: ignored
		`CREATE INDEX ix ON a (id)`,          // no change to rows: ignored
		`INSERT INTO a VALUES (2)`,
		`ALTER TABLE a ADD COLUMN note VARCHAR(10) DEFAULT 'n'`,
		`INSERT INTO a VALUES (3, 'three')`)
	t1, t2 := r.next(t), r.next(t)
	err := r.fail(t)
	var sce *capmy.SchemaChangeError
	if !errors.As(err, &sce) {
		t.Fatalf("Run ended with %T %v, want *SchemaChangeError", err, err)
	}
	if sce.Table != d.table("a") || !strings.Contains(sce.Query, "ADD COLUMN note") || sce.Position <= t2.Position || sce.Retryable() {
		t.Errorf("error %+v (after txn at %d)", sce, t2.Position)
	}
	for _, want := range []string{d.name + ".a", "mysql-bin.", "apply the same change on the other side", "restart bgsync"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	_ = t1

	// Restarted with the change accepted, the capture goes on after it,
	// and the new column is decoded from the event.
	r2 := start(t, d, t2.Position, func(c *capmy.Config) { c.AcceptSchemaChangeThrough = sce.Position }, "a")
	t3 := r2.next(t)
	want := []change.Column{{Name: "id", Type: "int", Key: true}, {Name: "note", Type: "varchar"}}
	if diff := cmp.Diff(want, t3.Changes[0].Columns); diff != "" || t3.Changes[0].After[1].S != "three" {
		t.Errorf("after the change: %+v (-want +got columns):\n%s", t3.Changes[0].After, diff)
	}
}

func TestTruncateIsAChange(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE a (id INT PRIMARY KEY)`, `CREATE TABLE other (id INT PRIMARY KEY)`)
	r := start(t, d, 0, nil, "a")
	d.exec(t, `INSERT INTO a VALUES (1)`, `TRUNCATE TABLE other`, `TRUNCATE a`, `INSERT INTO a VALUES (2)`)
	r.next(t)
	tr := r.next(t)
	want := []change.Change{{Op: change.OpTruncate, Table: d.table("a"), Truncate: []change.Table{d.table("a")}}}
	if diff := cmp.Diff(want, tr.Changes, ignoreTime); diff != "" {
		t.Fatalf("truncate (-want +got):\n%s", diff)
	}
	if tr.Position == 0 || tr.ID == 0 {
		t.Errorf("truncate txn header: %+v", tr)
	}
	if got := r.next(t); firstID(got) != 2 || got.Position <= tr.Position {
		t.Errorf("after truncate: %+v", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		setup  []string
		write  []string
		column string
		says   []string
	}{
		{"no primary key", []string{`CREATE TABLE a (id INT, v INT)`}, []string{`INSERT INTO a VALUES (1, 1)`},
			"", []string{"primary key"}},
		{"zero date", []string{`CREATE TABLE a (id INT PRIMARY KEY, d DATE)`},
			[]string{`SET SESSION sql_mode = ''`, `INSERT INTO a VALUES (1, '0000-00-00')`},
			"d", []string{"zero date"}},
		{"minimal row image", []string{`CREATE TABLE a (id INT PRIMARY KEY, v INT, w INT)`, `INSERT INTO a VALUES (1, 1, 1)`},
			[]string{`SET SESSION binlog_row_image = 'MINIMAL'`, `UPDATE a SET v = 2 WHERE id = 1`},
			"", []string{"binlog_row_image=FULL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := newTestDB(t)
			d.exec(t, tc.setup...)
			r := start(t, d, 0, nil, "a")
			d.exec(t, tc.write...)
			err := r.fail(t)
			var de *capmy.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Run ended with %T %v, want *DecodeError", err, err)
			}
			if de.Table != d.table("a") || de.Column != tc.column || de.Position == 0 || de.Retryable() {
				t.Errorf("error %+v", de)
			}
			for _, s := range append(tc.says, d.name+".a", "mysql-bin.") {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}
