package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/transform"
	"github.com/jackc/pgx/v5"
)

// shape is what verify reads of a table: its key and the columns both
// sides have, in the order rows are printed (key first).
type shape struct {
	table change.Table
	key   []string          // primary key columns, in key order
	cols  []string          // key columns, then the others by name
	types map[string]string // column → type on blue, for literals
	// green is the table as green is read, when it differs from blue
	// (a mapped table); nil: the same as blue.
	green *shape
	// mapped, when set, turns each side's COPY lines into canonical lines
	// through the table's transform; nil: lines are compared as printed.
	mapped *mapped
	// canon, when set, turns each side's lines into canonical lines
	// (sides of different engines, or of different column types): see
	// canonical.go.
	canon *canonical
	// my is what a MariaDB/MySQL side reads by; nil on PostgreSQL.
	my *myTable
	// sel is a MariaDB/MySQL side's select list, by cols, when it is not
	// the plain column names (a mapped table: capture's forms).
	sel []string
	// canonKeys: key texts are canonical (a mapped table's MariaDB/MySQL
	// side), turned into literals by keyKinds, the Kinds of its key
	// columns' values.
	canonKeys bool
	keyKinds  []change.Kind
	// oneChunk: the table is read as one chunk, because the sides would
	// not cut its keys into the same ranges (see keyrange.go).
	oneChunk bool
}

// on returns the shape of side i (0 blue, 1 green).
func (s *shape) on(i int) *shape {
	if i == 1 && s.green != nil {
		return s.green
	}
	return s
}

// canonicalKeys reports whether the key texts of s's lines are canonical
// (compared by value, or mapped) rather than as the side prints them.
func (s *shape) canonicalKeys() bool { return s.canon != nil || s.canonKeys }

// keyKind is the Kind of key column i's values, by which a canonical key
// text is turned back into a MariaDB/MySQL literal.
func (s *shape) keyKind(i int) change.Kind {
	if s.canon != nil {
		return s.canon.keyKind(i)
	}
	if i < len(s.keyKinds) {
		return s.keyKinds[i]
	}
	return change.KindAbsent
}

// compared is the shape of the lines compared: green's columns for a
// mapped table (its canonical lines are in green's shape), else the table's.
func (s *shape) compared() *shape { return s.on(1) }

// loadShape reads the table on both sides and decides how to compare it:
// without a mapping, or with an identity mapping where both sides have the
// same columns, rows are compared as printed (the fast path); otherwise
// through the mapping.
func loadShape(ctx context.Context, p *pair, t change.Table, m *transform.Mapping, o *Options) (*shape, error) {
	if m != nil && m.Source() != t {
		return nil, fmt.Errorf("the transform given for %s maps %s", t, m.Source())
	}
	if o.engine(0).binlog() || o.engine(1).binlog() {
		if m != nil && !(m.Identity() && m.Target() == t) {
			return loadMapped(ctx, p, m)
		}
		return loadEngines(ctx, p, t, o)
	}
	if m == nil || m.Identity() {
		s, err := loadSame(ctx, p, t)
		if err == nil || m == nil {
			return s, err
		}
		// An identity mapping of a table green has more columns of (filled
		// by their defaults): compare the columns the mapping fills.
	}
	return loadMapped(ctx, p, m)
}

// loadSame reads the table on both sides and checks they agree.
func loadSame(ctx context.Context, p *pair, t change.Table) (*shape, error) {
	var sides [2]*shape
	for i := range sideName {
		s, err := readShape(ctx, p.pg(i), t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sideName[i], err)
		}
		sides[i] = s
	}
	b, g := sides[0], sides[1]
	if !slices.Equal(b.key, g.key) {
		return nil, fmt.Errorf("primary keys differ: blue (%s), green (%s)", strings.Join(b.key, ", "), strings.Join(g.key, ", "))
	}
	if !slices.Equal(b.cols, g.cols) {
		return nil, fmt.Errorf("columns differ: only on blue %v, only on green %v (declare the table's transforms.blue_to_green)",
			minus(b.cols, g.cols), minus(g.cols, b.cols))
	}
	return b, nil
}

var sideName = [2]string{"blue", "green"}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func readShape(ctx context.Context, c *pgx.Conn, t change.Table) (*shape, error) {
	ident := pgx.Identifier{t.Schema, t.Name}.Sanitize()
	rows, err := c.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod),
	coalesce((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) WHERE k.attnum = a.attnum), 0)::int
FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attname`, ident)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t, err)
	}
	defer rows.Close()
	s := &shape{table: t, types: map[string]string{}}
	type keyCol struct {
		name string
		pos  int
	}
	var keys []keyCol
	var others []string
	for rows.Next() {
		var name, typ string
		var pos int
		if err := rows.Scan(&name, &typ, &pos); err != nil {
			return nil, err
		}
		s.types[name] = typ
		if pos > 0 {
			keys = append(keys, keyCol{name, pos})
		} else {
			others = append(others, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("table %s: %w", t, err)
	}
	if len(s.types) == 0 {
		return nil, fmt.Errorf("table %s not found", t)
	}
	if len(keys) == 0 {
		return nil, errors.New("table " + t.String() + " has no primary key; verify compares rows by primary key")
	}
	slices.SortFunc(keys, func(a, b keyCol) int { return a.pos - b.pos })
	for _, k := range keys {
		s.key = append(s.key, k.name)
	}
	s.cols = append(append([]string(nil), s.key...), others...)
	return s, nil
}

// keyList is "k1, k2" quoted.
func (s *shape) keyList() string { return identList(s.key) }

func identList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// keyTuple renders a key's text (COPY text fields joined by tabs) as a
// row of typed literals, for WHERE clauses: ('1'::integer, 'a'::text).
func (s *shape) keyTuple(key string) string {
	fields := strings.Split(key, "\t")
	var b strings.Builder
	b.WriteByte('(')
	for i, f := range fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(literal(unescapeCopy(f)))
		b.WriteString("::" + s.types[s.key[i]])
	}
	b.WriteByte(')')
	return b.String()
}

// literal quotes s as an SQL string literal (standard_conforming_strings
// is on in verify's sessions).
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// unescapeCopy reverses COPY text escaping of one field.
func unescapeCopy(f string) string {
	if !strings.Contains(f, `\`) {
		return f
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 == len(f) {
			b.WriteByte(c)
			continue
		}
		i++
		switch f[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		default:
			b.WriteByte(f[i])
		}
	}
	return b.String()
}
