package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	capturemy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/bgsync/bgsync/transform"
	"github.com/jackc/pgx/v5/pgtype"
)

// mapped is how a table whose shape differs between the sides is compared:
// blue's rows are mapped into green's shape by the table's transform, and
// each side's row becomes one canonical line (transform.Canonical of every
// compared column, COPY-escaped, tab-separated, key first), which is
// hashed and compared as the printed lines of the fast path are.
//
// Each side's values are decoded as that side's capture gives them, the
// form the mapping was compiled for and the form its output takes for
// green's engine: a PostgreSQL side's text by type OID (pgtext), a
// MariaDB/MySQL side's as capture/mysql decodes the same row from the
// binlog (capture/mysql.TextTable).
type mapped struct {
	m     *transform.Mapping
	blue  []transform.Column // blue's columns as read: the mapping's inputs
	green []transform.Column // green's columns as read: key, then the other mapped ones
	in    []change.Column    // blue's columns as a change lists them
	// blueKey are blue's key columns in key order, by index into blue;
	// outKey the green key column each is copied to, and outRest the
	// other mapped columns, by index into m.Columns().
	blueKey, outKey, outRest []int
	// dec decodes side i's fields (in blue's, or green's, column order).
	dec [2]func(fields [][]byte) (change.Row, error)
	// trim and jsonText, by green column (green's order): the declared
	// normalisations of both sides' values before Canonical. trim:
	// CHAR(n)/character(n) on green drops trailing spaces (MariaDB strips
	// them, PostgreSQL pads); jsonText: MariaDB's JSON alias (longtext)
	// on green is compared as JSON, by value.
	trim, jsonText []bool
}

// mappedSide is one side of a mapped table as verify reads it.
type mappedSide struct {
	shape *shape             // key and columns under the side's names
	live  []transform.Column // the columns as the transforms were compiled against
	text  *capturemy.TextTable
}

// readMappedSide reads table t of side i: on PostgreSQL its columns
// (transform.ReadColumns); on MariaDB/MySQL the same as
// transform.ReadMySQLColumns gives them and capture's decoding of them.
func (p *pair) readMappedSide(ctx context.Context, i int, t change.Table) (*mappedSide, error) {
	if my, ok := p.sides[i].(*mySide); ok {
		s, err := my.readShape(ctx, t)
		if err != nil {
			return nil, err
		}
		live, err := transform.ReadMySQLColumns(ctx, my.conn, t)
		if err != nil {
			return nil, err
		}
		tt, err := capturemy.LoadTextTable(ctx, my.conn, t)
		if err != nil {
			return nil, err
		}
		return &mappedSide{shape: s, live: live, text: tt}, nil
	}
	s, err := readShape(ctx, p.pg(i), t)
	if err != nil {
		return nil, err
	}
	cols, err := transform.ReadColumns(ctx, p.pg(i), t)
	if err != nil {
		return nil, err
	}
	return &mappedSide{shape: s, live: cols}, nil
}

// bind returns the decoder of rows of cols (the side's columns, in the
// order read) and, on MariaDB/MySQL, the select list that reads them.
func (ms *mappedSide) bind(side string, cols []transform.Column) (func([][]byte) (change.Row, error), []string, error) {
	if ms.text == nil {
		return func(f [][]byte) (change.Row, error) {
			row, err := transform.DecodeRow(cols, f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", side, err)
			}
			return row, nil
		}, nil, nil
	}
	decs := make([]func([]byte) (change.Value, error), len(cols))
	sel := make([]string, len(cols))
	for j, c := range cols {
		d, ok := ms.text.Decoder(c.Name)
		e, _ := ms.text.Select(c.Name)
		if !ok {
			return nil, nil, fmt.Errorf("%s: column %s of %s is not a stored column", side, c.Name, ms.shape.table)
		}
		decs[j], sel[j] = d, e
	}
	return func(f [][]byte) (change.Row, error) {
		if len(f) != len(decs) {
			return nil, fmt.Errorf("%s: row has %d fields for %d columns", side, len(f), len(decs))
		}
		row := make(change.Row, len(decs))
		for j, raw := range f {
			v, err := decs[j](raw)
			if err != nil {
				return nil, fmt.Errorf("%s: column %s (%s): %w", side, cols[j].Name, cols[j].MySQL.ColumnType, err)
			}
			row[j] = v
		}
		return row, nil
	}, sel, nil
}

// loadMapped reads the table on both sides and binds its mapping: blue is
// read whole (the mapping's inputs), green by the columns the mapping
// fills, key first in blue's key order. Either side may be of either
// engine.
func loadMapped(ctx context.Context, p *pair, m *transform.Mapping) (*shape, error) {
	var sides [2]*mappedSide
	for i, t := range []change.Table{m.Source(), m.Target()} {
		ms, err := p.readMappedSide(ctx, i, t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sideName[i], err)
		}
		sides[i] = ms
	}
	b, g := sides[0].shape, sides[1].shape
	mp := &mapped{m: m}
	var err error
	if mp.blue, err = pick(sides[0].live, m.Inputs()); err != nil {
		return nil, fmt.Errorf("blue: %w (since the transforms were compiled)", err)
	}
	mp.in = transform.ChangeColumns(mp.blue)
	if sides[0].text != nil {
		// The change lists the columns as capture/mysql describes them.
		cc := sides[0].text.Columns()
		for j, c := range mp.blue {
			if k := slices.IndexFunc(cc, func(x change.Column) bool { return x.Name == c.Name }); k >= 0 {
				mp.in[j] = cc[k]
			}
		}
	}
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
	gs := &shape{table: m.Target(), types: g.types, my: g.my}
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
	if mp.green, err = pick(sides[1].live, gs.cols); err != nil {
		return nil, fmt.Errorf("green: %w (since the transforms were compiled)", err)
	}
	s := &shape{table: m.Source(), key: b.key, cols: names, types: b.types, my: b.my, green: gs, mapped: mp}
	if mp.dec[0], s.sel, err = sides[0].bind("blue", mp.blue); err != nil {
		return nil, err
	}
	if mp.dec[1], gs.sel, err = sides[1].bind("green", mp.green); err != nil {
		return nil, err
	}
	for _, c := range mp.green {
		mp.trim = append(mp.trim, c.OID == pgtype.BPCharOID || c.MySQL != nil && c.MySQL.DataType == "char")
		mp.jsonText = append(mp.jsonText, c.MySQL != nil && c.MySQL.JSON && c.MySQL.DataType != "json")
	}
	for _, sh := range []*shape{s, gs} {
		if sh.my == nil {
			continue
		}
		// Key texts are canonical: a MariaDB/MySQL literal is made of
		// them by the kind capture gives the column.
		sh.canonKeys = true
		for _, k := range sh.key {
			sh.keyKinds = append(sh.keyKinds, sh.my.cols[k].Kind())
		}
	}
	if p.binlog(0) || p.binlog(1) {
		s.oneChunk = !mappedKeyOrder(s, gs, sides)
	}
	if err := p.checkKeyCopied(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// mappedKeyOrder reports whether blue's key ranges select the same rows
// on green for a mapped table (see keyrange.go): key columns of the same
// MariaDB/MySQL type and collation on two such sides, or integers on
// both sides.
func mappedKeyOrder(b, g *shape, sides [2]*mappedSide) bool {
	if b.my != nil && g.my != nil {
		same := true
		for j := range b.key {
			if b.my.types[b.key[j]] != g.my.types[g.key[j]] {
				same = false
			}
		}
		if same {
			return true
		}
	}
	for j := range b.key {
		for i, s := range []*shape{b, g} {
			var pg []transform.Column
			if sides[i].text == nil {
				pg = sides[i].live
			}
			if !integerColumn(s, pg, s.key[j]) {
				return false
			}
		}
	}
	return true
}

// canonical is the compared text of a value of green column j (key
// first): its declared normalisations, then transform.Canonical.
func (mp *mapped) canonical(j int, v change.Value) string {
	if v.Kind == change.KindText && j < len(mp.trim) {
		if mp.trim[j] {
			v = change.Text(strings.TrimRight(v.S, " "))
		}
		if mp.jsonText[j] {
			v = change.JSON(v.S)
		}
	}
	return transform.Canonical(v)
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
	var line []byte
	switch sd := p.sides[0].(type) {
	case *mySide:
		q := "SELECT " + s.mySelect() + " FROM " + myTableName(s) + " ORDER BY " + myList(s.key) + " LIMIT 1"
		if err := sd.query(ctx, q, len(s.cols), func(l []byte) { line = append(line[:0], l...) }); err != nil {
			return fmt.Errorf("blue: %w", err)
		}
	default:
		var buf bytes.Buffer
		q := "SELECT " + identList(s.cols) + " FROM " + quoteTable(s) + " ORDER BY " + s.keyList() + " LIMIT 1"
		if _, err := p.pg(0).PgConn().CopyTo(ctx, &buf, "COPY ("+q+") TO STDOUT"); err != nil {
			return fmt.Errorf("blue: %w", err)
		}
		line = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
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
	side := 1
	if c.blue {
		side = 0
	}
	c.key = c.key[:0]
	row, err := c.mp.dec[side](c.fields)
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
			c.buf = pgtext.AppendCopyText(c.buf, c.mp.canonical(i, v))
		}
		return c.buf, nil
	}
	for j, i := range c.mp.blueKey {
		c.key = append(c.key, c.mp.canonical(j, row[i]))
	}
	c.ch.After = row
	mc, err := c.mapper.Map(&c.ch)
	if err != nil {
		return nil, err
	}
	outCols := c.mp.m.Columns()
	for j, i := range c.mp.outKey {
		if v := c.mp.canonical(j, mc.After[i]); v != c.key[j] {
			return nil, &keyError{blue: c.mp.blue[c.mp.blueKey[j]].Name, green: outCols[i].Name, from: c.key[j], to: v, target: c.mp.m.Target()}
		}
	}
	for j, k := range c.key {
		if j > 0 {
			c.buf = append(c.buf, '\t')
		}
		c.buf = pgtext.AppendCopyText(c.buf, k)
	}
	for r, i := range c.mp.outRest {
		c.buf = append(c.buf, '\t')
		c.buf = pgtext.AppendCopyText(c.buf, c.mp.canonical(len(c.mp.outKey)+r, mc.After[i]))
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
