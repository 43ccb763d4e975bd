package mysql

import (
	"strings"
	"testing"
)

func TestParsePositionRoundTrips(t *testing.T) {
	p, form, err := ParsePosition("mysql-bin.000002:126516450")
	if err != nil || form.Base != "mysql-bin" || form.GTID || form.Format(p) != "mysql-bin.000002:126516450" {
		t.Fatalf("got %v %+v %v", p, form, err)
	}
	for _, bad := range []string{"mysql-bin.000002", "mysql-bin.000002:x", "mysql-bin:4", "mysql-bin.00000x:4", "",
		"0-1", "0-1-x", "4294967296-1-5", "0-1-2-3"} {
		if _, _, err := ParsePosition(bad); err == nil {
			t.Errorf("ParsePosition(%q) = nil error, want one", bad)
		}
	}
}

func TestGTIDPositions(t *testing.T) {
	p, form, err := ParsePosition("11-2097151-2199023255551")
	if err != nil || !form.GTID || form.Domain != 11 || !IsGTID(p) {
		t.Fatalf("got %v %+v %v", p, form, err)
	}
	if got := form.Format(p); got != "11-2097151-2199023255551" {
		t.Errorf("Format = %q", got)
	}
	// Positions fit a signed BIGINT (PostgreSQL's checkpoint reads them so).
	if uint64(p) >= 1<<63 {
		t.Errorf("position %d does not fit an int64", uint64(p))
	}
	// Ordered by sequence number first, whatever the server_id: a
	// failover to a server with a smaller id still moves forward.
	a, _ := GTIDPosition(GTID{Domain: 0, ServerID: 9, Seq: 100})
	b, _ := GTIDPosition(GTID{Domain: 0, ServerID: 1, Seq: 101})
	zero, _ := GTIDPosition(GTID{})
	file, _ := PositionOf("mysql-bin.999999", 1<<32-1)
	if !(file < zero && zero < a && a < b) {
		t.Errorf("order: file %d, zero %d, a %d, b %d", file, zero, a, b)
	}
	if IsGTID(file) || !IsGTID(zero) {
		t.Errorf("IsGTID wrong: file %v zero %v", IsGTID(file), IsGTID(zero))
	}
	if got := (Form{Domain: 3}).Format(zero); got != "3-0-0" {
		t.Errorf("zero GTID prints %q", got)
	}
	for _, g := range []GTID{{Seq: 1 << 41}, {ServerID: 1 << 21, Seq: 1}} {
		if _, err := GTIDPosition(g); err == nil || !strings.Contains(err.Error(), "file positions") {
			t.Errorf("GTIDPosition(%v) = %v, want an error naming the way out", g, err)
		}
	}
	list, err := parseGTIDList("0-1-5,11-11-8")
	if err != nil || list[11] != (GTID{11, 11, 8}) || list[0] != (GTID{0, 1, 5}) {
		t.Fatalf("parseGTIDList = %v, %v", list, err)
	}
	if _, err := parseGTIDList("0-1-5,0-2-6"); err == nil {
		t.Error("a domain listed twice parsed")
	}
	in, _ := gtidPositionIn(list, 7)
	if in != zero {
		t.Errorf("absent domain: %v, want the zero GTID", in)
	}
}
