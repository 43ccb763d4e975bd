package verify

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sync/errgroup"
)

// chunk is a key range (lo, hi]; "" is unbounded. Bounds are key texts.
type chunk struct{ lo, hi string }

// rowSet is one side's rows of a chunk: count, order-independent hash sum,
// and each row's hash by key text.
type rowSet struct {
	n    int
	sum  uint64
	rows map[string]uint64
	keep bool              // keep lines (rechecks: to name differing columns)
	line map[string]string // key → the row's COPY line, when keep
	nkey int
	part []byte // an incomplete line carried between writes
	// conv, for a table compared by value (a mapped table, or sides of
	// different engines or column types), turns each line into its
	// canonical line before it is hashed; nil on the fast path.
	conv lineConv
}

// Write takes COPY text output: one row per line, fields split by tabs.
func (r *rowSet) Write(b []byte) (int, error) {
	n := len(b)
	if len(r.part) > 0 {
		b = append(r.part, b...)
		r.part = nil
	}
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			r.part = append(r.part[:0], b...)
			return n, nil
		}
		r.add(b[:i])
		b = b[i+1:]
	}
}

func (r *rowSet) add(line []byte) {
	if r.conv != nil {
		line = r.conv.line(line)
	}
	h := xxhash.Sum64(line)
	r.n++
	r.sum += h
	if r.rows == nil {
		return // counting only
	}
	end := 0
	for k := 0; k < r.nkey; k++ {
		j := bytes.IndexByte(line[end:], '\t')
		if j < 0 {
			end = len(line)
			break
		}
		end += j
		if k < r.nkey-1 {
			end++
		}
	}
	key := string(line[:end])
	r.rows[key] = h
	if r.keep {
		r.line[key] = string(line)
	}
}

// detail: what a rowSet keeps besides the count and hash sum.
type detail uint8

const (
	sumOnly  detail = iota
	rowHash         // each row's hash by key
	rowLines        // and each row's line
)

// newRowSet returns a rowSet for the lines of side i (0 blue, 1 green).
func newRowSet(s *shape, i int, d detail) *rowSet {
	r := &rowSet{nkey: len(s.key)}
	switch {
	case s.mapped != nil:
		r.conv = s.mapped.converter(i)
	case s.canon != nil:
		r.conv = s.canon.converter(i, len(s.key))
	}
	if d >= rowHash {
		r.rows = map[string]uint64{}
	}
	if d == rowLines {
		r.keep, r.line = true, map[string]string{}
	}
	return r
}

// read reads the same rows on both sides at once: the rows with keys,
// or when keys is nil the key range c.
func (p *pair) read(ctx context.Context, s *shape, c chunk, keys []string, d detail) ([2]*rowSet, error) {
	var sets [2]*rowSet
	g, gctx := errgroup.WithContext(ctx)
	for i := range sets {
		sets[i] = newRowSet(s, i, d)
		g.Go(func() error {
			var err error
			if keys != nil {
				err = p.sides[i].keyed(gctx, s.on(i), keys, sets[i])
			} else {
				err = p.sides[i].chunk(gctx, s.on(i), c, sets[i])
			}
			if err != nil {
				return fmt.Errorf("%s: %w", sideName[i], err)
			}
			return nil
		})
	}
	return sets, g.Wait()
}

// chunkResult is one chunk's first-pass outcome.
type chunkResult struct {
	blueRows, greenRows, matched int
	diffs                        map[string]diff
	seen                         positions
}

// compareChunk reads a chunk on both sides and compares the row counts
// and hash sums; only when they differ is the chunk read again with each
// row's key and hash, and compared row by row.
func (p *pair) compareChunk(ctx context.Context, s *shape, c chunk, o *Options) (chunkResult, error) {
	sets, err := p.read(ctx, s, c, nil, sumOnly)
	if err != nil {
		return chunkResult{}, err
	}
	b, g := sets[0], sets[1]
	out := chunkResult{blueRows: b.n, greenRows: g.n}
	if b.n == g.n && b.sum == g.sum {
		out.matched = b.n
		return out, nil
	}
	if sets, err = p.read(ctx, s, c, nil, rowHash); err != nil {
		return chunkResult{}, err
	}
	b, g = sets[0], sets[1]
	out = chunkResult{blueRows: b.n, greenRows: g.n, diffs: map[string]diff{}}
	for k, hb := range b.rows {
		hg, ok := g.rows[k]
		switch {
		case !ok:
			out.diffs[k] = diff{class: MissingOnGreen, blue: hb, blueOK: true}
		case hb != hg:
			out.diffs[k] = diff{class: Different, blue: hb, blueOK: true}
		default:
			out.matched++
		}
	}
	for k := range g.rows {
		if _, ok := b.rows[k]; !ok {
			out.diffs[k] = diff{class: MissingOnBlue}
		}
	}
	if o.live() {
		if out.seen, err = p.positions(ctx, o); err != nil {
			return out, err
		}
	}
	return out, nil
}
