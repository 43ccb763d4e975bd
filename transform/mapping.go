package transform

import (
	"fmt"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/expr-lang/expr/vm"
)

// RowError is a row a Mapping could not map: the expression failed on its
// data or returned a value the target column cannot take.
type RowError struct {
	Source, Target change.Table
	Column         string // target column
	Expr           string // the expression, "" for a copy
	Err            error
	// Implicit: the mapping is Implicit's (no transform is configured);
	// the value could not be converted to the target column's type.
	Implicit bool
}

func (e *RowError) Error() string {
	if e.Implicit {
		return fmt.Sprintf("convert %s → %s: column %s: %v", e.Source, e.Target, e.Column, e.Err)
	}
	if e.Expr == "" {
		return fmt.Sprintf("transform %s → %s: column %s: %v", e.Source, e.Target, e.Column, e.Err)
	}
	return fmt.Sprintf("transform %s → %s: column %s = %s: %v", e.Source, e.Target, e.Column, e.Expr, e.Err)
}
func (e *RowError) Unwrap() error { return e.Err }

// Source and Target are the tables the mapping reads and writes.
func (m *Mapping) Source() change.Table { return m.source }
func (m *Mapping) Target() change.Table { return m.target }

// Mapper maps changes with one Mapping. It reuses its expression machine
// and row buffer, so it is for one goroutine at a time.
type Mapper struct {
	m    *Mapping
	vm   vm.VM
	env  map[string]any
	idx  []int    // each input's place in the change being mapped, -1 if absent
	seen []string // the column names idx was found for
}

// NewMapper returns a Mapper of m.
func (m *Mapping) NewMapper() *Mapper {
	p := &Mapper{m: m, env: make(map[string]any, len(m.inputs)), idx: make([]int, len(m.inputs)), seen: []string{}}
	for i := range p.idx {
		p.idx[i] = -1 // matches seen: no columns yet
	}
	return p
}

// Map returns c in the target's shape. Truncates are passed with the
// table renamed (a TRUNCATE of several tables is split by the caller).
func (p *Mapper) Map(c *change.Change) (change.Change, error) {
	m := p.m
	out := change.Change{Op: c.Op, Table: m.target, Seq: c.Seq, Cascade: c.Cascade, RestartIdentity: c.RestartIdentity, Time: c.Time}
	if c.Op == change.OpTruncate {
		out.Truncate = []change.Table{m.target}
		return out, nil
	}
	p.locate(c.Columns)
	out.Columns = m.columns[:len(m.columns):len(m.columns)] // shared, read-only
	var err error
	if c.Before != nil {
		if out.Before, err = p.row(c.Before, true); err != nil {
			return out, err
		}
	}
	if c.After != nil {
		// An update's images are compared with each other (which columns
		// it changed), so both take the stored form; an insert's row is
		// put in that form by the target itself.
		if out.After, err = p.row(c.After, c.Op == change.OpUpdate); err != nil {
			return out, err
		}
	}
	return out, nil
}

// locate finds each input column in cols. Changes of one table nearly
// always list the same columns in the same order, so the positions found
// for the previous change are checked first.
func (p *Mapper) locate(cols []change.Column) {
	same := len(cols) == len(p.seen)
	for i := 0; same && i < len(cols); i++ {
		same = cols[i].Name == p.seen[i]
	}
	if same {
		return
	}
	p.seen = p.seen[:0]
	pos := make(map[string]int, len(cols))
	for j, c := range cols {
		p.seen = append(p.seen, c.Name)
		pos[c.Name] = j
	}
	for i, name := range p.m.inputs {
		if j, ok := pos[name]; ok {
			p.idx[i] = j
		} else {
			p.idx[i] = -1
		}
	}
}

// row maps one image. With stored, converted and computed values take the
// form the target column stores them in (storedForm): a before-image is
// compared value by value with the target's current row.
func (p *Mapper) row(in change.Row, stored bool) (change.Row, error) {
	m := p.m
	get := func(i int) change.Value {
		if j := p.idx[i]; j >= 0 && j < len(in) {
			return in[j]
		}
		return change.Absent()
	}
	out := make(change.Row, len(m.out))
	envReady := false
	for i := range m.out {
		oc := &m.out[i]
		if oc.src >= 0 {
			v := get(oc.src)
			if oc.conv && v.Kind != change.KindUnchanged && v.Kind != change.KindAbsent && v.Kind != change.KindNull {
				cv, err := p.convert(v, oc, stored)
				if err != nil {
					return nil, &RowError{Source: m.source, Target: m.target, Column: oc.col.Name, Err: err, Implicit: m.implicit}
				}
				v = cv
			}
			out[i] = v
			continue
		}
		// A computed column whose inputs were not all sent is not sent.
		missing := change.KindNull
		for _, u := range oc.uses {
			if k := get(u).Kind; k == change.KindUnchanged || k == change.KindAbsent {
				missing = k
				break
			}
		}
		if missing != change.KindNull {
			out[i] = change.Value{Kind: missing}
			continue
		}
		if !envReady {
			clear(p.env)
			for k, name := range m.inputs {
				v := get(k)
				if m.lifts != nil {
					v = lift(v, m.lifts[k])
				}
				if x, ok := toGo(v); ok {
					p.env[name] = x
				}
			}
			envReady = true
		}
		res, err := p.run(oc)
		if err != nil {
			return nil, &RowError{Source: m.source, Target: m.target, Column: oc.col.Name, Expr: oc.expr, Err: err}
		}
		v, err := p.fromResult(res, oc, stored)
		if err != nil {
			return nil, &RowError{Source: m.source, Target: m.target, Column: oc.col.Name, Expr: oc.expr, Err: err}
		}
		out[i] = v
	}
	return out, nil
}

// run evaluates an expression, turning a panic in a helper into an error.
func (p *Mapper) run(oc *outCol) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return p.vm.Run(oc.prog, p.env)
}

// fromResult turns what an expression returned into target column oc's
// value: its type's kind, its stored form when stored, then the form the
// target's own capture gives the column (lower).
func (p *Mapper) fromResult(res any, oc *outCol, stored bool) (change.Value, error) {
	var v change.Value
	var err error
	if b, ok := res.(bool); ok && oc.col.boolish() {
		return intOfBool(change.Bool(b)), nil
	}
	if v, err = fromGo(res, oc.col.Type, p.m.zone); err != nil {
		return v, err
	}
	if stored {
		if v, err = storedForm(v, oc.col.Type); err != nil {
			return v, err
		}
	}
	return lower(v, oc.lower)
}

// convert copies v into a column of another type of a compatible family,
// or of the same type on another engine: lifted from the source's raw
// form, converted, put in its stored form, lowered into the target's.
func (p *Mapper) convert(v change.Value, oc *outCol, stored bool) (change.Value, error) {
	v = lift(v, oc.from.form())
	var err error
	switch {
	case oc.from.boolish() && familyOf(oc.col.Type) == famBool:
		return boolOf(v)
	case oc.col.boolish() && v.Kind == change.KindBool:
		return intOfBool(v), nil
	case oc.from.Type != oc.col.Type:
		if v, err = p.convertType(v, oc); err != nil {
			return v, err
		}
	}
	if stored {
		if v, err = storedForm(v, oc.col.Type); err != nil {
			return v, err
		}
	}
	return lower(v, oc.lower)
}

// convertType converts v between two types of compatible families.
func (p *Mapper) convertType(v change.Value, oc *outCol) (change.Value, error) {
	to := familyOf(oc.col.Type)
	if to == famTime && (v.Kind == change.KindTime || v.Kind == change.KindInterval) {
		return v, nil // the target keeps the digits its precision holds
	}
	x, _ := toGo(v)
	if t, ok := x.(time.Time); ok && (v.Kind == change.KindTimestamp || v.Kind == change.KindDate) {
		// A wall-clock time: place it in the rule's zone.
		x = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), p.m.zone)
	}
	if v.Kind == change.KindJSON && to == famText {
		return change.Text(v.S), nil
	}
	if v.Kind == change.KindText && to == famJSON {
		x = v.S
	}
	return fromGo(x, oc.col.Type, p.m.zone)
}

// Columns returns the target columns the mapping fills, in the order of
// the mapped change's values. Target columns not listed keep their value
// on an update and get their default on an insert.
func (m *Mapping) Columns() []change.Column { return m.columns }

// Inputs returns the source columns the mapping reads, by name.
func (m *Mapping) Inputs() []string { return m.inputs }

// Identity reports whether the mapping changes nothing: same table name,
// and every source column copied to a target column of the same name and
// type. Such a mapping need not run.
func (m *Mapping) Identity() bool {
	if m.source != m.target || len(m.out) != len(m.inputs) {
		return false
	}
	for _, oc := range m.out {
		if oc.src < 0 || oc.conv || m.inputs[oc.src] != oc.col.Name {
			return false
		}
	}
	return true
}

// Target is the table the Mapper's mapping writes.
func (p *Mapper) Target() change.Table { return p.m.target }
