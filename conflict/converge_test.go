package conflict

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
)

// simSide is one database in the convergence model: rows by key, each with
// the commit time of its version.
type simSide struct {
	side  Side
	rows  map[int64]simRow
	out   []simChange // changes written here by the application, not yet delivered
	trace func(string)
	n     int                 // values written
	tomb  map[int64]time.Time // commit times of local deletes
	// colTS is what the column-merge trigger records: per key, the commit
	// time of the application's last write of each column (zero: none).
	// A local delete removes it; the applier's writes leave it alone.
	colTS map[int64][]time.Time
	// deletes lets the application delete rows.
	deletes bool
}

type simRow struct {
	row   change.Row
	ts    time.Time
	local bool // written by the application on this side
}

type simChange struct {
	op            change.Op
	before, after change.Row
	ts            time.Time
}

// write is an application write on s at ts.
func (s *simSide) write(r *rand.Rand, key int64, ts time.Time) {
	cur, ok := s.rows[key]
	if ok && !ts.After(cur.ts) && !(cur.local && cur.ts.Equal(ts)) {
		// A write that saw a version commits after it, as on one host.
		ts = cur.ts.Add(time.Microsecond)
	}
	// Every write makes values never seen before, as real rows with an
	// updated_at column do; see TestABALimit for repeated values.
	s.n++
	fresh := func() string { s.n++; return fmt.Sprintf("%s%d", s.side, s.n) }
	val := func() change.Row { return row(key, fresh(), fresh()) }
	var c simChange
	switch {
	case !ok:
		c = simChange{op: change.OpInsert, after: val(), ts: ts}
	case s.deletes && r.IntN(4) == 0:
		c = simChange{op: change.OpDelete, before: cur.row, ts: ts}
	default:
		after := append(change.Row(nil), cur.row...)
		after[1+r.IntN(2)] = change.Text(fresh())
		c = simChange{op: change.OpUpdate, before: cur.row, after: after, ts: ts}
	}
	s.apply(c.op, key, c.after, ts, true)
	switch c.op {
	case change.OpDelete:
		delete(s.colTS, key)
	default:
		ct := s.colTS[key]
		if ct == nil {
			ct = make([]time.Time, len(cols))
			s.colTS[key] = ct
		}
		for i := range cols {
			if c.op == change.OpInsert || !change.Equal(c.before[i], c.after[i]) {
				ct[i] = ts
			}
		}
	}
	s.out = append(s.out, c)
	if s.trace != nil {
		s.trace(fmt.Sprintf("%s writes %s key %d @%d -> %s", s.side, c.op, key, ts.Sub(t1).Microseconds(), s.show(key)))
	}
}

func (s *simSide) apply(op change.Op, key int64, r change.Row, ts time.Time, local bool) {
	switch op {
	case change.OpInsert:
		s.rows[key] = simRow{r, ts, local}
	case change.OpUpdate:
		cur := s.rows[key]
		next := append(change.Row(nil), cur.row...)
		for i, v := range r {
			if v.Kind != change.KindUnchanged {
				next[i] = v
			}
		}
		s.rows[key] = simRow{next, ts, local}
	case change.OpDelete:
		delete(s.rows, key)
		if local {
			s.tomb[key] = ts
		}
	}
}

// deliver applies the oldest undelivered change of from to to, as the
// applier does, and reports the decision.
func deliver(rule Rule, from, to *simSide) Decision {
	c := from.out[0]
	from.out = from.out[1:]
	img := c.after
	if img == nil {
		img = c.before
	}
	key := img[0].I
	in := &Input{Op: c.op, Columns: cols, Before: c.before, After: c.after, From: from.side, CommitTime: c.ts}
	if cur, ok := to.rows[key]; ok {
		in.Current, in.CurrentTime, in.CurrentLocal = cur.row, cur.ts, cur.local
	}
	in.Deleted = to.tomb[key]
	if in.Current != nil {
		in.ColumnTimes = to.colTS[key]
	}
	d := Resolve(rule, in)
	to.apply(d.Op, key, d.Row, c.ts, false)
	if to.trace != nil {
		to.trace(fmt.Sprintf("    %s->%s %s key %d @%d: %s %s (%s) -> %s", from.side, to.side, c.op, key, c.ts.Sub(t1).Microseconds(),
			d.Kind, d.Resolution, d.Reason, to.show(key)))
	}
	return d
}

// TestConvergence runs random concurrent writes on overlapping keys on both
// sides, delivered to the other side in random interleavings, and checks
// that both sides end identical under every automatic policy.
func TestConvergence(t *testing.T) {
	// blue-wins, green-wins and column-merge are modelled without deletes:
	// see the package documentation for the delete races they cannot see.
	cases := []struct {
		rule    Rule
		deletes bool
	}{
		{Rule{Policy: LastWriterWins}, true},
		{Rule{Policy: BlueWins}, false},
		{Rule{Policy: GreenWins}, false},
		{Rule{Policy: ColumnMerge}, false},
	}
	for _, c := range cases {
		rule := c.rule
		t.Run(fmt.Sprintf("%s,deletes=%v", rule.Policy, c.deletes), func(t *testing.T) {
			conflicts := 0
			for seed := uint64(0); seed < 300; seed++ {
				n, diff := simulate(rule, c.deletes, seed, nil)
				conflicts += n
				if diff != "" {
					var log []string
					simulate(rule, c.deletes, seed, func(s string) { log = append(log, s) })
					t.Fatalf("seed %d: sides differ: %s\n%s", seed, diff, strings.Join(log, "\n"))
				}
			}
			if conflicts == 0 {
				t.Fatal("the model produced no conflicts; it tests nothing")
			}
			t.Logf("%d conflicts decided", conflicts)
		})
	}
}

// simulate runs one random history and returns the conflicts decided and
// how the sides differ at the end ("" when identical). trace, when set,
// receives every event.
func simulate(rule Rule, deletes bool, seed uint64, trace func(string)) (int, string) {
	r := rand.New(rand.NewPCG(seed, 7))
	blue := &simSide{side: Blue, rows: map[int64]simRow{}, trace: trace, tomb: map[int64]time.Time{}, colTS: map[int64][]time.Time{}, deletes: deletes}
	green := &simSide{side: Green, rows: map[int64]simRow{}, trace: trace, tomb: map[int64]time.Time{}, colTS: map[int64][]time.Time{}, deletes: deletes}
	clock := t1
	conflicts := 0
	for step := 0; step < 200; step++ {
		if r.IntN(3) > 0 { // equal commit times happen: the clock does not always move
			clock = clock.Add(time.Microsecond)
		}
		switch k := r.IntN(4); {
		case k == 0, k == 1:
			// A transaction of one to three writes: they share its
			// commit time, and may touch one key more than once.
			side := blue
			if k == 1 {
				side = green
			}
			ts := clock
			for n := 1 + r.IntN(3); n > 0; n-- {
				side.write(r, r.Int64N(4), ts)
			}
		case k == 2 && len(blue.out) > 0:
			if deliver(rule, blue, green).Kind != None {
				conflicts++
			}
		case k == 3 && len(green.out) > 0:
			if deliver(rule, green, blue).Kind != None {
				conflicts++
			}
		}
	}
	for len(blue.out)+len(green.out) > 0 {
		if len(blue.out) > 0 && (len(green.out) == 0 || r.IntN(2) == 0) {
			deliver(rule, blue, green)
		} else {
			deliver(rule, green, blue)
		}
	}
	return conflicts, simDiff(blue, green)
}

func (s *simSide) show(key int64) string {
	r, ok := s.rows[key]
	if !ok {
		return s.side.String() + ":-"
	}
	return fmt.Sprintf("%s:%s,%s@%d/local=%v", s.side, r.row[1].S, r.row[2].S, r.ts.Sub(t1).Microseconds(), r.local)
}

func simDiff(a, b *simSide) string {
	for k, ra := range a.rows {
		rb, ok := b.rows[k]
		if !ok {
			return fmt.Sprintf("key %d only on %s", k, a.side)
		}
		if !rowsEqual(ra.row, rb.row) {
			return fmt.Sprintf("key %d: %s has %v, %s has %v", k, a.side, ra.row, b.side, rb.row)
		}
	}
	for k := range b.rows {
		if _, ok := a.rows[k]; !ok {
			return fmt.Sprintf("key %d only on %s", k, b.side)
		}
	}
	return ""
}
