package verify

import (
	"context"
	"sort"
	"strings"
)

// recheckAll reads the rows that differed again, once the sync has applied
// what was committed when they were first read, up to rechecks times. A
// row equal in a re-read is in flight; the others keep their class, with
// the differing columns of the last re-read.
func recheckAll(ctx context.Context, o *Options, tables []*tableRun, rep *Report) error {
	pending := false
	for _, tr := range tables {
		if len(tr.diffs) > 0 {
			pending = true
		}
	}
	if !pending {
		return nil
	}
	p, err := openPair(ctx, o)
	if err != nil {
		return err
	}
	defer p.close()
	for round := 0; round < rechecks; round++ {
		if o.live() {
			want := positions{}
			for _, tr := range tables {
				want = want.max(tr.seen)
			}
			if err := p.waitSettled(ctx, o, want, o.SettleTimeout); err != nil {
				rep.Unsettled = err.Error()
				// Name the differing columns of what was found, once.
				if round == 0 {
					for _, tr := range tables {
						if err := tr.reread(ctx, p, o, false); err != nil {
							return err
						}
					}
				}
				return nil
			}
		}
		left := false
		for _, tr := range tables {
			if err := tr.reread(ctx, p, o, o.live()); err != nil {
				return err
			}
			if tr.open() > 0 {
				left = true
			}
		}
		if !left || !o.live() {
			return nil
		}
	}
	return nil
}

// open counts the rows still classed as a difference.
func (tr *tableRun) open() int {
	n := 0
	for _, d := range tr.diffs {
		if d.class != InFlight {
			n++
		}
	}
	return n
}

// reread reads the table's differing rows on both sides in batches and
// updates their class: in flight (when live) if green now holds blue's row
// as it is now or as it was at the last read, else the class the re-read
// shows, with the columns that differ.
func (tr *tableRun) reread(ctx context.Context, p *pair, o *Options, live bool) error {
	var keys []string
	for k, d := range tr.diffs {
		if d.class != InFlight {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	const batch = 500
	for len(keys) > 0 {
		n := min(batch, len(keys))
		part := keys[:n]
		keys = keys[n:]
		sets, err := p.read(ctx, tr.shape, chunk{}, part, rowLines)
		if err != nil {
			return err
		}
		if o.live() {
			seen, err := p.positions(ctx, o)
			if err != nil {
				return err
			}
			tr.seen = tr.seen.max(seen)
		}
		b, g := sets[0], sets[1]
		for _, k := range part {
			lb, okb := b.line[k]
			lg, okg := g.line[k]
			prev := tr.diffs[k]
			d := diff{blueOK: okb}
			if okb {
				d.blue = b.rows[k]
			}
			switch {
			case okb == okg && (!okb || lb == lg):
				d.class = InFlight // equal now
				if !live {
					d.class = Matched // changed meanwhile, with no sync to blame
				}
			case live && okg == prev.blueOK && (!okg || g.rows[k] == prev.blue):
				// Green now holds what blue held at the last read: the sync
				// caught up to it, and blue has moved on since.
				d.class = InFlight
			case !okg:
				d.class = MissingOnGreen
			case !okb:
				d.class = MissingOnBlue
			default:
				d.class = Different
			}
			if d.class != InFlight && d.class != Matched {
				// A row the transform could not map (or decode) is
				// different, with the reason; else name the columns.
				if d.err = lineError(lb); d.err == "" {
					d.err = lineError(lg)
				}
				if d.class == Different && d.err == "" {
					d.columns = differingColumns(tr.shape.compared(), lb, lg)
				}
			}
			tr.diffs[k] = d
		}
	}
	return nil
}

// differingColumns names the columns whose text differs between two COPY
// lines of the same shape.
func differingColumns(s *shape, a, b string) []string {
	fa, fb := strings.Split(a, "\t"), strings.Split(b, "\t")
	var out []string
	for i, c := range s.cols {
		if i >= len(fa) || i >= len(fb) || fa[i] != fb[i] {
			out = append(out, c)
		}
	}
	return out
}
