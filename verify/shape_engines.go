package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/transform"
)

// loadEngines reads a table on a pair with a MariaDB/MySQL side and
// decides how to compare it: two sides of one engine whose columns agree
// in type and collation are compared as the servers print rows (the
// sessions print alike: UTC, utf8mb4); any other pair by canonical value
// (canonical.go). Both sides must have the same primary key and the same
// column names.
func loadEngines(ctx context.Context, p *pair, t change.Table, o *Options) (*shape, error) {
	var sh [2]*shape
	var pg [2][]transform.Column
	for i := range sideName {
		var s *shape
		var err error
		if my, ok := p.sides[i].(*mySide); ok {
			s, err = my.readShape(ctx, t)
		} else {
			s, err = readShape(ctx, p.pg(i), t)
			if err == nil {
				pg[i], err = transform.ReadColumns(ctx, p.pg(i), t)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sideName[i], err)
		}
		sh[i] = s
	}
	b, g := sh[0], sh[1]
	if strings.Join(b.key, "\x00") != strings.Join(g.key, "\x00") {
		return nil, fmt.Errorf("primary keys differ: blue (%s), green (%s)", strings.Join(b.key, ", "), strings.Join(g.key, ", "))
	}
	if !sameSet(b.cols, g.cols) {
		return nil, fmt.Errorf("columns differ: only on blue %v, only on green %v", minus(b.cols, g.cols), minus(g.cols, b.cols))
	}
	g.cols = b.cols // one order on both sides
	b.green = g
	if o.engine(0) == o.engine(1) && sameTypes(b, g, b.cols) {
		return b, nil
	}
	var err error
	if b.canon, err = newCanonical(sh, pg, b.cols, len(b.key)); err != nil {
		return nil, err
	}
	g.canon = b.canon
	b.oneChunk = !sameKeyOrder(b, g, pg)
	return b, nil
}

// sameTypes: every column of two MariaDB/MySQL sides has the same
// COLUMN_TYPE and collation.
func sameTypes(b, g *shape, cols []string) bool {
	if b.my == nil || g.my == nil {
		return false
	}
	for _, c := range cols {
		if b.my.types[c] != g.my.types[c] {
			return false
		}
	}
	return true
}
