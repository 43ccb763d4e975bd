package postgres

import (
	"testing"
	"time"
)

func TestFlushPosition(t *testing.T) {
	tests := []struct {
		name         string
		idle         [][2]uint64 // (walEnd, lastEmitted) keepalives seen while idle
		acked        uint64
		confirmedWas uint64
		want         uint64
	}{
		{name: "nothing yet", want: 0},
		{name: "acked only", acked: 100, want: 100},
		{name: "idle keepalive after everything applied", idle: [][2]uint64{{500, 100}}, acked: 100, want: 500},
		{name: "idle keepalive but last txn not applied", idle: [][2]uint64{{500, 100}}, acked: 90, want: 90},
		{name: "never moves back", acked: 50, confirmedWas: 80, want: 80},
		{name: "older keepalive ignored", idle: [][2]uint64{{500, 100}, {400, 300}}, acked: 100, want: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &statusState{confirmed: pos(tt.confirmedWas)}
			for _, k := range tt.idle {
				s.idle(pos(k[0]), pos(k[1]))
			}
			if got := s.flush(pos(tt.acked)); uint64(got) != tt.want {
				t.Errorf("flush = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestEmptyTransactionNotHandedOn(t *testing.T) {
	d := newDecoder(nil, "")
	if txn := d.finish(&pending{xid: 7}, 100, time.Now()); txn != nil {
		t.Fatalf("empty transaction handed on: %+v", txn)
	}
	if d.lastEmitted != 0 || d.stats.empty != 1 {
		t.Errorf("lastEmitted %d, empty %d; want 0 and 1", d.lastEmitted, d.stats.empty)
	}
}
