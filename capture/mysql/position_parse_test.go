package mysql

import "testing"

func TestParsePositionRoundTrips(t *testing.T) {
	p, base, err := ParsePosition("mysql-bin.000002:126516450")
	if err != nil || base != "mysql-bin" || FormatPosition(p, base) != "mysql-bin.000002:126516450" {
		t.Fatalf("got %v %q %v", p, base, err)
	}
	for _, bad := range []string{"mysql-bin.000002", "mysql-bin.000002:x", "mysql-bin:4", "mysql-bin.00000x:4", ""} {
		if _, _, err := ParsePosition(bad); err == nil {
			t.Errorf("ParsePosition(%q) = nil error, want one", bad)
		}
	}
}
