package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/transform"
)

// TablesOn returns the synced tables by their names on side, in config
// order. Names that do not parse are left out (Validate reports them).
func (c *Config) TablesOn(side Side) []TableRef {
	refs := make([]TableRef, 0, len(c.TableList))
	for _, t := range c.TableList {
		if ref, err := t.On(side); err == nil {
			refs = append(refs, ref)
		}
	}
	return refs
}

// On returns the table's name on side.
func (t Table) On(side Side) (TableRef, error) {
	if side == Green && strings.TrimSpace(t.GreenName) != "" {
		return ParseTableName(t.GreenName)
	}
	return ParseTableName(t.Name)
}

// ConflictRulesOn returns each table's conflict rule by the table's name
// on side ("schema.table").
func (c *Config) ConflictRulesOn(side Side) map[string]conflict.Rule {
	out := map[string]conflict.Rule{}
	for _, t := range c.TableList {
		ref, err1 := t.On(side)
		p, err2 := t.Conflict.policy()
		if err1 != nil || err2 != nil {
			continue // Validate reports it
		}
		out[ref.String()] = conflict.Rule{Policy: p, TimestampColumn: t.Conflict.TimestampColumn, Zone: t.Transforms.zone()}
	}
	return out
}

// zone is the time zone the table's transforms give a timestamp without
// one (either direction's; Validate refuses two different ones under a
// timestamp column), nil for UTC.
func (t Transforms) zone() *time.Location {
	for _, tr := range []*Transform{t.BlueToGreen, t.GreenToBlue} {
		if tr == nil || tr.Zone == "" {
			continue
		}
		if loc, err := time.LoadLocation(tr.Zone); err == nil {
			return loc
		}
	}
	return nil
}

// From returns the transform of changes flowing from side, nil if none is
// configured.
func (t Transforms) From(side Side) *Transform {
	if side == Green {
		return t.GreenToBlue
	}
	return t.BlueToGreen
}

// OnErrorOf returns tables[i]'s on_error action with its default.
func (c *Config) OnErrorOf(i int) string {
	if v := c.TableList[i].OnError; v != "" {
		return v
	}
	return OnErrorPause
}

// TransformRule returns tables[i]'s rule for changes flowing from side
// from to the other side: the configured transform, or copy by name.
func (c *Config) TransformRule(i int, from Side) transform.Rule {
	t := c.TableList[i]
	src, _ := t.On(from)
	dst, _ := t.On(from.Other())
	r := transform.Rule{Source: src, Target: dst}
	if tr := t.Transforms.From(from); tr != nil {
		r.Rename, r.Set, r.Drop, r.Zone = tr.Rename, tr.Set, tr.Drop, tr.Zone
	}
	return r
}

// TransformKey is the config key path of tables[i]'s transform from side
// from, "tables[1].transforms.blue_to_green".
func TransformKey(i int, from Side) string {
	return fmt.Sprintf("tables[%d].transforms.%s_to_%s", i, from, from.Other())
}

// TransformProblems turns the problems transform.Compile found in
// tables[i]'s rule from side from into a config Error, each located at its
// key's line (or the nearest enclosing key in the file). Nil if probs is
// empty.
func (c *Config) TransformProblems(i int, from Side, probs []transform.Problem) *Error {
	if len(probs) == 0 {
		return nil
	}
	ps := &problems{meta: c.meta}
	base := TransformKey(i, from)
	r := c.TransformRule(i, from)
	for _, p := range probs {
		path := base
		if p.Field != "" {
			path += "." + p.Field
		}
		msg := p.Msg
		if !strings.Contains(msg, r.Source.String()) && !strings.Contains(msg, r.Target.String()) {
			msg = fmt.Sprintf("%s → %s: %s", r.Source, r.Target, msg) // name the table
		}
		ps.add(path, "%s", msg)
	}
	return ps.err().(*Error)
}

// greenEntry is where a green table name was first listed.
type greenEntry struct {
	index   int
	renamed bool // by green_name
}

// checkTableExtras validates green_name, on_error and the static parts of
// the transforms of tables[i]; the rest is checked against the live
// schemas (transform.Compile).
func checkTableExtras(ps *problems, i int, t Table, greens map[TableRef]greenEntry) {
	path := fmt.Sprintf("tables[%d]", i)
	key, name := path+".name", t.Name
	if t.GreenName != "" {
		key, name = path+".green_name", t.GreenName
	}
	if ref, err := ParseTableName(name); err != nil {
		if t.GreenName != "" {
			ps.add(key, "invalid table name: %v", err)
		}
	} else if prev, dup := greens[ref]; dup && (t.GreenName != "" || prev.renamed) {
		// Two entries with the same blue name are reported as such.
		ps.add(key, "table %s on green is listed twice (also tables[%d])", ref, prev.index)
	} else if !dup {
		greens[ref] = greenEntry{i, t.GreenName != ""}
	}
	if t.OnError != "" && t.OnError != OnErrorPause && t.OnError != OnErrorDeadLetter {
		ps.add(path+".on_error", "on_error %q is not one of %s, %s", t.OnError, OnErrorPause, OnErrorDeadLetter)
	}
	for _, from := range []Side{Blue, Green} {
		tr := t.Transforms.From(from)
		if tr == nil {
			continue
		}
		key := TransformKey(i, from)
		if tr.Zone != "" {
			if _, err := time.LoadLocation(tr.Zone); err != nil {
				ps.add(key+".zone", "unknown time zone %q (an IANA name such as Europe/Berlin)", tr.Zone)
			}
		}
		for col, e := range tr.Set {
			if strings.TrimSpace(e) == "" {
				ps.add(key+".set."+col, "the expression for %s is empty", col)
			}
		}
		for s, d := range tr.Rename {
			if strings.TrimSpace(d) == "" {
				ps.add(key+".rename."+s, "rename of %s names no target column", s)
			}
		}
		for j, d := range tr.Drop {
			if strings.TrimSpace(d) == "" {
				ps.add(fmt.Sprintf("%s.drop[%d]", key, j), "empty column name")
			}
		}
	}
}
