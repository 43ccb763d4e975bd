package mysql

import (
	"testing"

	"github.com/bgsync/bgsync/change"
)

func TestPositionOfAndFormat(t *testing.T) {
	for _, tc := range []struct {
		file string
		pos  uint32
		want change.Position
		text string
	}{
		{"mysql-bin.000003", 1234, 3<<32 | 1234, "mysql-bin.000003:1234"},
		{"mysql-bin.000001", 4, 1<<32 | 4, "mysql-bin.000001:4"},
		{"/var/lib/mysql/binlog.123456", 0xFFFFFFFF, 123456<<32 | 0xFFFFFFFF, "/var/lib/mysql/binlog.123456:4294967295"},
		{"mysql-bin.1000000", 7, 1000000<<32 | 7, "mysql-bin.1000000:7"}, // past six digits
		{"a.b.000010", 99, 10<<32 | 99, "a.b.000010:99"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := PositionOf(tc.file, tc.pos)
			if err != nil || got != tc.want {
				t.Fatalf("PositionOf = %d, %v; want %d", got, err, tc.want)
			}
			base, _, _ := splitFile(tc.file)
			if s := FormatPosition(got, base); s != tc.text {
				t.Errorf("FormatPosition = %q, want %q", s, tc.text)
			}
		})
	}
	if got := FormatPosition(3<<32|1234, ""); got != "000003:1234" {
		t.Errorf("no base: %q", got)
	}
	// Order across files: any offset in a later file is after the earlier.
	a, _ := PositionOf("mysql-bin.000002", 0xFFFFFFF0)
	b, _ := PositionOf("mysql-bin.000003", 4)
	if a >= b {
		t.Errorf("positions not ordered across files: %d >= %d", a, b)
	}
}

func TestPositionOfRejects(t *testing.T) {
	for _, f := range []string{"", "mysql-bin", "mysql-bin.", ".000003", "mysql-bin.00x003", "mysql-bin.99999999999", "mysql-bin.-1"} {
		if p, err := PositionOf(f, 4); err == nil {
			t.Errorf("PositionOf(%q) = %d, want an error", f, p)
		}
	}
}
