package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/bgsync/bgsync/transform"
)

// mapped is how a table whose shape differs between the sides is compared:
// blue's rows are mapped into green's shape by the table's transform, and
// each side's row becomes one canonical line (transform.Canonical of every
// compared column, COPY-escaped, tab-separated, key first), which is
// hashed and compared as the printed lines of the fast path are.
type mapped struct {
	m     *transform.Mapping
	blue  []transform.Column // blue's columns as read: the mapping's inputs
	green []transform.Column // green's columns as read: key, then the other mapped ones
	in    []change.Column    // blue's columns as a change lists them
	// blueKey are blue's key columns in key order, by index into blue;
	// outKey the green key column each is copied to, and outRest the
	// other mapped columns, by index into m.Columns().
	blueKey, outKey, outRest []int
}

// loadMapped reads the table on both sides and binds its mapping: blue is
// read whole (the mapping's inputs), green by the columns the mapping
// fills, key first in blue's key order.
func loadMapped(ctx context.Context, p *pair, m *transform.Mapping) (*shape, error) {
	var sh [2]*shape
	var live [2][]transform.Column
	for i, t := range []change.Table{m.Source(), m.Target()} {
		s, err := readShape(ctx, p.pg(i), t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sideName[i], err)
		}
		cols, err := transform.ReadColumns(ctx, p.pg(i), t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sideName[i], err)
		}
		sh[i], live[i] = s, cols
	}
	b, g := sh[0], sh[1]
	mp := &mapped{m: m}
	var err error
	if mp.blue, err = pick(live[0], m.Inputs()); err != nil {
		return nil, fmt.Errorf("blue: %w (since the transforms were compiled)", err)
	}
	mp.in = transform.ChangeColumns(mp.blue)
	names := make([]string, len(mp.blue))
	for i, c := range mp.blue {
		names[i] = c.Name
	}
	for _, k := range b.key {
		mp.blueKey = append(mp.blueKey, slices.Index(names, k))
	}
	if mp.outKey, err = keyTargets(m, mp.blue, mp.blueKey); err != nil {
		return nil, err
	}
	out := m.Columns()
	gs := &shape{table: m.Target(), types: g.types}
	for _, i := range mp.outKey {
		gs.key = append(gs.key, out[i].Name)
	}
	if !sameSet(gs.key, g.key) {
		return nil, fmt.Errorf("green's primary key (%s) is not blue's (%s) as the transform maps it (%s)",
			strings.Join(g.key, ", "), strings.Join(b.key, ", "), strings.Join(gs.key, ", "))
	}
	gs.cols = append(gs.cols, gs.key...)
	for i, c := range out {
		if !slices.Contains(mp.outKey, i) {
			mp.outRest = append(mp.outRest, i)
			gs.cols = append(gs.cols, c.Name)
		}
	}
	if mp.green, err = pick(live[1], gs.cols); err != nil {
		return nil, fmt.Errorf("green: %w (since the transforms were compiled)", err)
	}
	s := &shape{table: m.Source(), key: b.key, cols: names, types: b.types, green: gs, mapped: mp}
	if err := p.checkKeyCopied(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// pick returns the columns of live named by names, in that order.
func pick(live []transform.Column, names []string) ([]transform.Column, error) {
	out := make([]transform.Column, 0, len(names))
	for _, n := range names {
		i := slices.IndexFunc(live, func(c transform.Column) bool { return c.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("column %q no longer exists", n)
		}
		out = append(out, live[i])
	}
	return out, nil
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(x string) bool { return !slices.Contains(b, x) })
}

// keyTargets finds, for each blue key column, the green key column the
// mapping fills from it alone. It maps a change that lists only that
// column, as unchanged: copies pass it on, expressions over it are not
// run, and every other output is absent.
func keyTargets(m *transform.Mapping, blue []transform.Column, blueKey []int) ([]int, error) {
	mapper := m.NewMapper()
	out := m.Columns()
	targets := make([]int, len(blueKey))
	for j, bi := range blueKey {
		c, err := mapper.Map(&change.Change{Op: change.OpInsert, Table: m.Source(),
			Columns: []change.Column{{Name: blue[bi].Name, Type: blue[bi].Type, Key: true}}, After: change.Row{change.Unchanged()}})
		if err != nil {
			return nil, fmt.Errorf("find where key column %s goes: %w", blue[bi].Name, err)
		}
		targets[j] = -1
		for i, v := range c.After {
			if !out[i].Key || v.Kind != change.KindUnchanged {
				continue
			}
			if targets[j] >= 0 || slices.Contains(targets[:j], i) {
				return nil, fmt.Errorf("the key of %s is not copied one to one to the key of %s (%s): verify compares rows by a key that is the same on both sides",
					m.Source(), m.Target(), blue[bi].Name)
			}
			targets[j] = i
		}
		if targets[j] < 0 {
			return nil, fmt.Errorf("key column %s of %s is copied to no key column of %s: verify compares rows by a key that is the same on both sides",
				blue[bi].Name, m.Source(), m.Target())
		}
	}
	n := 0
	for _, c := range out {
		if c.Key {
			n++
		}
	}
	if n != len(blueKey) {
		return nil, fmt.Errorf("the key of %s has %d columns the transform fills, the key of %s %d: verify compares rows by a key that is the same on both sides",
			m.Target(), n, m.Source(), len(blueKey))
	}
	return targets, nil
}

// checkKeyCopied maps blue's first row and refuses the table when its key
// changes on the way (a key column computed rather than copied): chunks
// are cut by blue's key ranges and rows found by key on both sides.
func (p *pair) checkKeyCopied(ctx context.Context, s *shape) error {
	var buf bytes.Buffer
	q := "SELECT " + identList(s.cols) + " FROM " + quoteTable(s) + " ORDER BY " + s.keyList() + " LIMIT 1"
	if _, err := p.pg(0).PgConn().CopyTo(ctx, &buf, "COPY ("+q+") TO STDOUT"); err != nil {
		return fmt.Errorf("blue: %w", err)
	}
	line := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(line) == 0 {
		return nil
	}
	var ke *keyError
	if _, err := s.mapped.converter(0).convert(line); errors.As(err, &ke) {
		return ke
	}
	return nil // a row the transform fails on is reported with the others
}

// keyError is a blue row whose key the transform changes.
type keyError struct {
	blue, green string // column names
	from, to    string // canonical values
	target      change.Table
}

func (e *keyError) Error() string {
	return fmt.Sprintf("key column %s is %q on blue and %s.%s %q once mapped: verify compares only tables whose key columns are copied unchanged",
		e.blue, e.from, e.target, e.green, e.to)
}

// converter turns one side's COPY lines of a mapped table into canonical
// lines. It reuses its buffers (and the blue side's Mapper), so it is for
// one rowSet.
type converter struct {
	mp     *mapped
	blue   bool
	mapper *transform.Mapper
	ch     change.Change
	fields [][]byte
	key    []string
	buf    []byte
}

func (mp *mapped) converter(side int) *converter {
	c := &converter{mp: mp, blue: side == 0}
	if c.blue {
		c.mapper = mp.m.NewMapper()
		c.ch = change.Change{Op: change.OpInsert, Table: mp.m.Source(), Columns: mp.in}
	}
	return c
}

// line returns the canonical line of a COPY line, valid until the next
// call. A row that cannot be decoded or mapped gets a line of its key and
// the error, which matches no row of the other side.
func (c *converter) line(in []byte) []byte {
	out, err := c.convert(in)
	if err != nil {
		return c.errLine(err)
	}
	return out
}

func (c *converter) convert(in []byte) ([]byte, error) {
	c.split(in)
	cols := c.mp.green
	if c.blue {
		cols = c.mp.blue
	}
	c.key = c.key[:0]
	if len(c.fields) != len(cols) {
		c.rawKey()
		return nil, fmt.Errorf("row has %d fields for %d columns", len(c.fields), len(cols))
	}
	row, err := transform.DecodeRow(cols, c.fields)
	if err != nil {
		c.rawKey()
		return nil, err
	}
	c.buf = c.buf[:0]
	if !c.blue {
		for i, v := range row {
			if i > 0 {
				c.buf = append(c.buf, '\t')
			}
			c.buf = pgtext.AppendCopyText(c.buf, transform.Canonical(v))
		}
		return c.buf, nil
	}
	for _, i := range c.mp.blueKey {
		c.key = append(c.key, transform.Canonical(row[i]))
	}
	c.ch.After = row
	mc, err := c.mapper.Map(&c.ch)
	if err != nil {
		return nil, err
	}
	outCols := c.mp.m.Columns()
	for j, i := range c.mp.outKey {
		if v := transform.Canonical(mc.After[i]); v != c.key[j] {
			return nil, &keyError{blue: c.mp.blue[c.mp.blueKey[j]].Name, green: outCols[i].Name, from: c.key[j], to: v, target: c.mp.m.Target()}
		}
	}
	for j, k := range c.key {
		if j > 0 {
			c.buf = append(c.buf, '\t')
		}
		c.buf = pgtext.AppendCopyText(c.buf, k)
	}
	for _, i := range c.mp.outRest {
		c.buf = append(c.buf, '\t')
		c.buf = pgtext.AppendCopyText(c.buf, transform.Canonical(mc.After[i]))
	}
	return c.buf, nil
}

// rawKey takes the key from the fields as printed, for a row that could
// not be decoded.
func (c *converter) rawKey() {
	c.key = c.key[:0]
	if c.blue {
		for _, i := range c.mp.blueKey {
			if i < len(c.fields) {
				c.key = append(c.key, string(c.fields[i]))
			}
		}
		return
	}
	for i := 0; i < len(c.mp.outKey) && i < len(c.fields); i++ {
		c.key = append(c.key, string(c.fields[i]))
	}
}

// errMark starts the field of a line that stands for a row that could not
// be compared; PostgreSQL's text never holds a NUL byte.
const errMark = "\x00error "

func (c *converter) errLine(err error) []byte {
	c.buf = c.buf[:0]
	for j, k := range c.key {
		if j > 0 {
			c.buf = append(c.buf, '\t')
		}
		c.buf = pgtext.AppendCopyText(c.buf, k)
	}
	c.buf = append(c.buf, '\t')
	c.buf = append(c.buf, errMark...)
	return pgtext.AppendCopyText(c.buf, err.Error())
}

// lineError returns the error a canonical line carries, "" if none.
func lineError(line string) string {
	i := strings.Index(line, "\t"+errMark)
	if i < 0 {
		return ""
	}
	return unescapeCopy(line[i+1+len(errMark):])
}

// split cuts a COPY line into its fields, unescaped; \N is nil.
func (c *converter) split(in []byte) { c.fields = splitFields(c.fields[:0], in) }
