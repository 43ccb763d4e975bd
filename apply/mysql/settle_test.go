package mysql

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKeyArgs(t *testing.T) {
	tt := &TargetTable{Key: []string{"k"}}
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		name string
		col  ColumnType
		text string
		want any
	}{
		{"int", ColumnType{DataType: "int"}, "42", int64(42)},
		{"unsigned bigint", ColumnType{DataType: "bigint", Unsigned: true}, "18446744073709551615", uint64(18446744073709551615)},
		{"boolean text in a TINYINT(1)", ColumnType{DataType: "tinyint"}, "t", int64(1)},
		{"varchar", ColumnType{DataType: "varchar"}, "a b", "a b"},
		{"varchar that looks like a number", ColumnType{DataType: "varchar"}, "007", "007"},
		{"decimal", ColumnType{DataType: "decimal", Scale: 2}, "12.50", "12.50"},
		{"date", ColumnType{DataType: "date"}, "2024-02-29", "2024-02-29"},
		{"datetime", ColumnType{DataType: "datetime", Scale: 6}, "2024-02-29 10:11:12.5", "2024-02-29 10:11:12.500000"},
		{"timestamptz text in a TIMESTAMP: UTC", ColumnType{DataType: "timestamp"}, "2024-02-29 12:00:00+02", "2024-02-29 10:00:00.000000"},
		{"uuid in BINARY(16)", ColumnType{DataType: "binary", Length: 16}, "00112233-4455-6677-8899-aabbccddeeff",
			[]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}},
		{"bytea text in a VARBINARY", ColumnType{DataType: "varbinary", Length: 8}, `\x00ff`, []byte{0x00, 0xff}},
		{"uuid column", ColumnType{DataType: "uuid"}, "00112233-4455-6677-8899-aabbccddeeff", "00112233-4455-6677-8899-aabbccddeeff"},
		{"enum", ColumnType{DataType: "enum"}, "red", "red"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.col.Name = "k"
			tt.Columns, tt.index = []ColumnType{c.col}, map[string]int{"k": 0}
			got, err := KeyArgs(tt, map[string]*string{"k": str(c.text)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]any{c.want}, got); diff != "" {
				t.Errorf("KeyArgs (-want +got):\n%s", diff)
			}
		})
	}
	tt.Columns, tt.index = []ColumnType{{Name: "k", DataType: "int"}}, map[string]int{"k": 0}
	for name, key := range map[string]map[string]*string{
		"missing column": {"other": str("1")},
		"NULL":           {"k": nil},
		"not a number":   {"k": str("x")},
	} {
		if _, err := KeyArgs(tt, key); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestKeyWhere(t *testing.T) {
	tt := &TargetTable{Key: []string{"a", "b`c"}}
	if got, want := keyWhere(tt), "`a` = ? AND `b``c` = ?"; got != want {
		t.Errorf("keyWhere = %s, want %s", got, want)
	}
}
