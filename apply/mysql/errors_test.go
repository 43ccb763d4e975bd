package mysql

import (
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestErrorDetail(t *testing.T) {
	cases := []struct {
		msg string
		col string
		row int
	}{
		{"Data too long for column 'name' at row 2", "name", 2},
		{"Out of range value for column 'n' at row 1", "n", 1},
		{"Incorrect integer value: 'x' for column `db`.`t`.`n` at row 3", "n", 3},
		{"Column 'x' cannot be null", "x", 0},
		{"Duplicate entry '1' for key 'PRIMARY'", "", 0},
	}
	for _, c := range cases {
		col, row := errorDetail(&mysql.MySQLError{Number: 1406, Message: c.msg})
		if col != c.col || row != c.row {
			t.Errorf("%q: got %q, %d; want %q, %d", c.msg, col, row, c.col, c.row)
		}
	}
}

func TestSQLBuilders(t *testing.T) {
	tt := &TargetTable{Name: tbl("d", "t"), Columns: []ColumnType{{Name: "a"}, {Name: "b"}, {Name: "v"}}, Key: []string{"a", "b"}}
	if got, want := currentSQL(tt, 2), "SELECT `a`, `b`, `v` FROM `d`.`t` WHERE (`a`, `b`) IN ((?, ?), (?, ?)) FOR UPDATE"; got != want {
		t.Errorf("currentSQL:\n got %s\nwant %s", got, want)
	}
	tt.Key = []string{"a"}
	if got, want := currentSQL(tt, 3), "SELECT `a`, `b`, `v` FROM `d`.`t` WHERE `a` IN (?, ?, ?) FOR UPDATE"; got != want {
		t.Errorf("currentSQL:\n got %s\nwant %s", got, want)
	}
	if got, want := quoteIdent("we`ird"), "`we``ird`"; got != want {
		t.Errorf("quoteIdent: got %s, want %s", got, want)
	}
}

func TestLostRace(t *testing.T) {
	for n, want := range map[uint16]bool{1062: true, 1213: true, 1205: true, 1406: false, 1146: false} {
		err := &ApplyError{Err: &mysql.MySQLError{Number: n}}
		if got := lostRace(err); got != want {
			t.Errorf("lostRace(%d) = %v, want %v", n, got, want)
		}
		if retry := err.Retryable(); n == 1406 && retry || n == 1062 && !retry {
			t.Errorf("Retryable(%d) = %v", n, retry)
		}
	}
}
