package transform

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Column is one live column of a table, as read from the database.
type Column struct {
	Name string
	// Type as format_type() writes it: "integer", "numeric(12,2)", "jsonb".
	Type       string
	NotNull    bool
	HasDefault bool
	Key        bool   // part of the primary key
	OID        uint32 // type OID, to decode the column's text (0: unknown)
	// MySQL is the column's own type when it is a MariaDB/MySQL column
	// (ReadMySQLColumns); Type is then the PostgreSQL type of the same
	// value domain. Nil for a PostgreSQL column.
	MySQL *MySQLType
}

// Rule is one table's mapping for one direction, as configured.
type Rule struct {
	Source, Target change.Table
	// Rename maps a source column to the target column it is copied to.
	Rename map[string]string
	// Set computes a target column with an expression over the source row
	// (columns by name; $env["odd name"] for names that are not
	// identifiers).
	Set map[string]string
	// Drop lists source columns the target does not take.
	Drop []string
	// Zone places timestamps without time zone when they are converted to
	// or from timestamps with one (default UTC).
	Zone string
}

// Problem is one reason a Rule cannot be used. Field is the config key
// under the rule it concerns ("set.first_name", "rename.email", "drop"),
// empty when it is about the rule as a whole.
type Problem struct {
	Field  string
	Column string
	Msg    string
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.Msg
	}
	return p.Field + ": " + p.Msg
}

// Mapping is a compiled Rule: it maps changes of Source to Target.
type Mapping struct {
	source, target change.Table
	out            []outCol
	columns        []change.Column // the mapped change's columns, one per out
	zone           *time.Location
	inputs         []string // source column names, by index into the source image
	// lifts, when not nil, is each input's raw form (MariaDB/MySQL columns
	// whose values arrive in another kind than their Type's): expressions
	// see them lifted into their Type's kind.
	lifts    []rawForm
	implicit bool // made by Implicit: no rule was configured
}

// outCol produces one target column: a copy of source column src, or the
// result of prog over the columns uses.
type outCol struct {
	col  Column
	src  int // index into Mapping.inputs; -1 for an expression
	conv bool
	// For a converted copy: the source column (its Type, raw form and
	// boolean-ness). For any column: the target's raw form, into which
	// converted and computed values are lowered.
	from  Column
	lower rawForm
	prog  *vm.Program
	expr  string
	uses  []int // source columns prog reads
}

// Compile binds r to the live columns of both sides. It returns every
// problem found; the Mapping is nil when there is any.
func Compile(r Rule, src, dst []Column) (*Mapping, []Problem) {
	var probs []Problem
	add := func(field, col, format string, args ...any) {
		probs = append(probs, Problem{Field: field, Column: col, Msg: fmt.Sprintf(format, args...)})
	}
	zone := time.UTC
	if r.Zone != "" {
		z, err := time.LoadLocation(r.Zone)
		if err != nil {
			add("zone", "", "unknown time zone %q", r.Zone)
		} else {
			zone = z
		}
	}
	srcIdx := map[string]int{}
	for i, c := range src {
		srcIdx[c.Name] = i
	}
	dstIdx := map[string]int{}
	for i, c := range dst {
		dstIdx[c.Name] = i
	}
	m := &Mapping{source: r.Source, target: r.Target, zone: zone}
	m.setInputs(src)
	dropped := map[string]bool{}
	for _, d := range r.Drop {
		if _, ok := srcIdx[d]; !ok {
			add("drop", d, "%s has no column %q to drop", r.Source, d)
		}
		dropped[d] = true
	}
	// Where each target column comes from: renames first, then same names.
	from := map[string]string{} // target column → source column
	for _, s := range sortedKeys(r.Rename) {
		t := r.Rename[s]
		_, inSrc := srcIdx[s]
		_, inDst := dstIdx[t]
		switch {
		case !inSrc:
			add("rename."+s, s, "%s has no column %q", r.Source, s)
		case !inDst:
			add("rename."+s, t, "%s has no column %q to rename %s to", r.Target, t, s)
		case dropped[s]:
			add("rename."+s, s, "%q is both renamed and dropped", s)
		default:
			if prev, dup := from[t]; dup {
				add("rename."+s, t, "%s and %s are both renamed to %q", prev, s, t)
			}
			from[t] = s
		}
	}
	renamed := map[string]bool{}
	for _, s := range from {
		renamed[s] = true
	}
	for _, c := range src {
		if _, ok := dstIdx[c.Name]; ok && !renamed[c.Name] && !dropped[c.Name] {
			if _, taken := from[c.Name]; !taken {
				from[c.Name] = c.Name
			}
		}
	}
	env := map[string]any{}
	for _, c := range src {
		env[c.Name] = sample(c.Type)
	}
	opts := append([]expr.Option{expr.Env(env)}, helpers()...)
	used := map[string]bool{}
	for _, t := range sortedKeys(r.Set) {
		if _, ok := dstIdx[t]; !ok {
			add("set."+t, t, "%s has no column %q", r.Target, t)
			continue
		}
		if s, ok := from[t]; ok && r.Rename[s] == t {
			add("set."+t, t, "%q is both computed and renamed from %q", t, s)
		}
		delete(from, t) // an expression replaces a same-name copy
	}
	for _, c := range dst {
		field := "set." + c.Name
		if code, ok := r.Set[c.Name]; ok {
			prog, err := expr.Compile(code, opts...)
			if err != nil {
				add(field, c.Name, "expression %q does not compile: %s", code, oneLine(err.Error()))
				for _, w := range strings.FieldsFunc(code, notIdent) {
					used[w] = true // not "unplaced" as well
				}
				continue
			}
			oc := outCol{col: c, src: -1, prog: prog, expr: code, lower: c.form()}
			for _, name := range identifiers(prog.Node(), env) {
				oc.uses = append(oc.uses, srcIdx[name])
				used[name] = true
			}
			if msg := resultFits(prog.Node().Type(), c); msg != "" {
				add(field, c.Name, "expression %q returns %s", code, msg)
				continue
			}
			if c.Key {
				for _, u := range oc.uses {
					if !src[u].Key {
						add(field, c.Name, "key column %q is computed from %q, which is not a key column of %s: a delete's key could not be mapped",
							c.Name, src[u].Name, r.Source)
					}
				}
			}
			m.out = append(m.out, oc)
			continue
		}
		s, ok := from[c.Name]
		if !ok {
			switch {
			case c.Key:
				add(field, c.Name, "key column %q of %s is not filled: rename a source column to it or compute it", c.Name, r.Target)
			case c.NotNull && !c.HasDefault:
				add(field, c.Name, "%s.%s is NOT NULL without a default and nothing fills it: compute it with set:", r.Target, c.Name)
			}
			continue
		}
		sc := src[srcIdx[s]]
		used[s] = true
		if ok, why := copyableCol(sc, c); !ok {
			field := field
			if s != c.Name {
				field = "rename." + s
			}
			add(field, c.Name, "%s.%s: %s", r.Source, s, why)
			continue
		}
		if c.Key && !sc.Key {
			add(field, c.Name, "key column %q is copied from %q, which is not a key column of %s", c.Name, s, r.Source)
		}
		m.out = append(m.out, copyCol(sc, c, srcIdx[s]))
	}
	for _, c := range src {
		if !used[c.Name] && !dropped[c.Name] {
			add("drop", c.Name, "%s.%s has no place on %s: rename it, use it in an expression, or list it under drop",
				r.Source, c.Name, r.Target)
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	m.finish()
	return m, nil
}

// setInputs records the source columns a mapping reads, and their raw
// forms where any is not the kind of its Type.
func (m *Mapping) setInputs(src []Column) {
	for i, c := range src {
		m.inputs = append(m.inputs, c.Name)
		if f := c.form(); f != rawNone {
			if m.lifts == nil {
				m.lifts = make([]rawForm, len(src))
			}
			m.lifts[i] = f
		}
	}
}

// finish lists the mapped change's columns.
func (m *Mapping) finish() {
	for _, oc := range m.out {
		m.columns = append(m.columns, change.Column{Name: oc.col.Name, Type: oc.col.nativeType(), Key: oc.col.Key})
	}
}

// copyCol copies source column sc (at index i) to target column c,
// converting when the two hold values of different types or kinds: a
// copy between the same types of the same engine costs nothing per row.
func copyCol(sc, c Column, i int) outCol {
	conv := sc.Type != c.Type || sc.form() != c.form()
	return outCol{col: c, src: i, conv: conv, from: sc, lower: c.form()}
}

// identifiers lists the source columns an expression reads.
func identifiers(node ast.Node, env map[string]any) []string {
	seen := map[string]bool{}
	v := &identVisitor{env: env, seen: seen}
	ast.Walk(&node, v)
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

type identVisitor struct {
	env  map[string]any
	seen map[string]bool
}

func (v *identVisitor) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		if _, ok := v.env[x.Value]; ok {
			v.seen[x.Value] = true
		}
	case *ast.MemberNode: // $env["name"]
		if id, ok := x.Node.(*ast.IdentifierNode); ok && id.Value == "$env" {
			if s, ok := x.Property.(*ast.StringNode); ok {
				if _, ok := v.env[s.Value]; ok {
					v.seen[s.Value] = true
				}
			}
		}
	}
}

// resultFits says why an expression's static type cannot fill column c
// ("" when it can, or when the type is only known at run time). Strings
// may fill any column: the value is parsed when the row is mapped. A
// boolean fills a MariaDB/MySQL TINYINT(1) as 0 or 1.
func resultFits(t reflect.Type, c Column) string {
	if t == nil || t.Kind() == reflect.Interface {
		return ""
	}
	if t.Kind() == reflect.Bool && c.boolish() {
		return ""
	}
	pgType := c.Type
	f := familyOf(pgType)
	var fits []family
	switch {
	case t == reflect.TypeOf(Decimal("")):
		fits = []family{famNumeric, famInt, famFloat, famText}
	case t.Kind() == reflect.String:
		return ""
	case t.Kind() == reflect.Int, t.Kind() == reflect.Int64, t.Kind() == reflect.Float64:
		fits = []family{famInt, famNumeric, famFloat, famText}
	case t.Kind() == reflect.Bool:
		fits = []family{famBool, famText}
	case t == reflect.TypeOf(time.Time{}):
		fits = []family{famDate, famTimestamp, famTimestampTZ, famText}
	}
	if f == famJSON {
		return "" // anything is written as JSON
	}
	for _, ok := range fits {
		if ok == f {
			return ""
		}
	}
	return fmt.Sprintf("a %s, which a %s column cannot take", t, c.nativeType())
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func notIdent(r rune) bool {
	return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > 127)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
