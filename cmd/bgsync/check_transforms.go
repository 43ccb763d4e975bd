package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/transform"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
)

const checkTransformsHelp = `check-transforms finds transforms that lose data. For every synced table (or
--tables, by their names on blue) it reads up to --sample rows from blue, maps
each row blue→green and back green→blue with the configured transforms, and
compares every column of the original row that the green→blue mapping fills
with its value after the round trip (by value: 12.5 equals 12.50, JSON key
order does not matter, NULL is only equal to NULL). Then the same from green:
green→blue→green. A row is lossy when a column differs, or when a mapping
fails on it (the error is reported).

Both directions are checked even when "directions" is one-way: a round trip
needs both mappings. A table without a transform in one direction uses the
default one (copy by name); between PostgreSQL and MariaDB/MySQL that copy
converts each value as run does (TINYINT(1) ⇄ boolean, JSON ⇄ jsonb,
DATETIME ⇄ timestamptz through UTC, BIGINT UNSIGNED ⇄ numeric, ENUM ⇄
text), so the round trip checks those conversions too. Every table's
transforms are compiled against both live schemas first, as run does; a
problem in any is a config error.

Columns the way back does not fill (dropped, or computed from a column the
way out does not fill) are not compared: on the target they keep their value.
They are listed per table and direction as "not round-tripped".

Rows are sampled in primary-key order, the first --sample rows by key (the
same ones every run; --sample 0 reads every row). On PostgreSQL that is a
plain SELECT of all columns with LIMIT --sample. On MariaDB each table is
read in a transaction of its own (START TRANSACTION WITH CONSISTENT
SNAPSHOT, READ ONLY) and decoded into exactly the values capture reads from
the binlog; reading stops after --sample rows. MySQL 8 sides, and MariaDB
servers without binary logging, cannot be read yet (their checks report
"could not read"). Nothing is written: no setup is needed, and the user only
needs SELECT on the tables. The round trip runs in bgsync; what the column
types themselves would do on write (rounding into numeric(12,2), length
limits of varchar(n)) is not simulated.

Output, per table and direction: rows checked, lossy rows (with the columns),
and up to --show samples, each naming the table, key, column, original value,
value after the round trip, and the transform entries involved.

Example, with the customers table of configs/bgsync.example.yaml:

  $ bgsync check-transforms --config bgsync.yaml --tables customers --sample 0
  public.customers ⇄ public.clients
    blue→green→blue: 1200 rows checked, 3 lossy (name: 3)
      not round-tripped: legacy_code
      public.customers id=17 name: "Ada  Lovelace" → "Ada Lovelace"
        blue_to_green set first_name = split_part(name, " ", 0)
        blue_to_green set last_name = trim(join(split(name, " ")[1:], " "))
        green_to_blue set name = trim(first_name + " " + last_name)
    green→blue→green: 800 rows checked, 0 lossy
      not round-tripped: (none)
  1 of 2 checks found lossy rows

Exit codes: 0 no lossy row, 1 a lossy row found, 2 usage or config error
(including a transform that does not compile), 3 could not read a side (and
no lossy row found in what could be read).`

type checkTransformsFlags struct {
	tables []string
	sample int
	show   int
	format string
}

func newCheckTransformsCmd(g *globalFlags) *cobra.Command {
	f := &checkTransformsFlags{}
	cmd := &cobra.Command{
		Use:   "check-transforms",
		Short: "Find rows the configured transforms do not round-trip",
		Long:  checkTransformsHelp,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load(g.config, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return a.checkTransforms(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.tables, "tables", nil, "check only these synced tables, by their names on blue (comma-separated)")
	fl.IntVar(&f.sample, "sample", 1000, "rows read per table and side, the first by primary key; 0: every row")
	fl.IntVar(&f.show, "show", 10, "lossy samples listed per table and direction")
	fl.StringVar(&f.format, "format", "text", "text or json")
	return cmd
}

// rtReport is the result of check-transforms.
type rtReport struct {
	Status string    `json:"status"` // lossless, lossy, incomplete
	Sample int       `json:"sample"` // rows per table and side; 0: all
	Checks []rtCheck `json:"checks"`
}

// rtCheck is one table's round trip from one side.
type rtCheck struct {
	Table           string           `json:"table"` // name on blue, as --tables takes it
	From            string           `json:"from"`
	Direction       string           `json:"direction"` // "blue→green→blue"
	Source          string           `json:"source"`
	Via             string           `json:"via"`
	RowsChecked     int64            `json:"rows_checked"`
	LossyRows       int64            `json:"lossy_rows"`
	FailedRows      int64            `json:"failed_rows"` // lossy because a mapping failed
	LossyColumns    map[string]int64 `json:"lossy_columns"`
	NotRoundTripped []string         `json:"not_round_tripped"`
	// ReformattedJSON: text columns holding JSON that came back as the
	// same data in another text (key order, spacing): not lossy.
	ReformattedJSON []string   `json:"reformatted_json,omitempty"`
	Samples         []rtSample `json:"samples"`
	Error           string     `json:"error,omitempty"` // the side could not be read
}

// rtSample is one lossy column of one row, or a row a mapping failed on.
type rtSample struct {
	Table       string          `json:"table"`
	Key         string          `json:"key"`
	Column      string          `json:"column"`
	Original    json.RawMessage `json:"original,omitempty"`   // JSON string, or null for NULL
	RoundTrip   json.RawMessage `json:"round_trip,omitempty"` // idem
	Error       string          `json:"error,omitempty"`      // the mapping failed on the row
	Transform   string          `json:"transform,omitempty"`  // the failing one: blue_to_green, green_to_blue
	Target      string          `json:"target,omitempty"`     // the table it maps to; Column is its column
	Expressions []string        `json:"expressions"`
}

func (a *app) checkTransforms(ctx context.Context, out io.Writer, f *checkTransformsFlags) error {
	if f.format != "text" && f.format != "json" {
		return withCode(exitUsage, fmt.Errorf("--format %q: use text or json", f.format))
	}
	if f.sample < 0 || f.show < 0 {
		return withCode(exitUsage, errors.New("--sample and --show must be at least 0"))
	}
	idx, err := a.checkTableIndexes(f.tables)
	if err != nil {
		return withCode(exitUsage, err)
	}
	conns, err := a.connectSides(ctx)
	if err != nil {
		return withCode(exitNoMeasure, err)
	}
	defer conns.close()
	for side, c := range conns.pg {
		// The text forms transform.DecodeRow reads.
		if _, err := c.Exec(ctx, `SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, MDY'; SET IntervalStyle TO 'postgres';
SET extra_float_digits TO 3; SET bytea_output TO 'hex'`); err != nil {
			return withCode(exitNoMeasure, fmt.Errorf("%s: %s", side, scrubAll(err.Error())))
		}
	}
	ms, err := a.compileTransformsOn(ctx, conns, config.Blue, config.Green)
	if err == nil {
		err = a.addAsCaptured(ctx, conns, ms)
	}
	var ce *config.Error
	switch {
	case errors.As(err, &ce):
		return err
	case err != nil:
		return withCode(exitNoMeasure, fmt.Errorf("%s", scrubAll(err.Error())))
	}
	rep := &rtReport{Sample: f.sample, Checks: []rtCheck{}}
	for _, i := range idx {
		for _, from := range []config.Side{config.Blue, config.Green} {
			rep.Checks = append(rep.Checks, a.checkRoundTrip(ctx, conns, ms, i, from, f))
		}
	}
	lossy, failed := 0, 0
	for _, c := range rep.Checks {
		if c.LossyRows > 0 {
			lossy++
		}
		if c.Error != "" {
			failed++
		}
	}
	rep.Status = "lossless"
	switch {
	case lossy > 0:
		rep.Status = "lossy"
	case failed > 0:
		rep.Status = "incomplete"
	}
	if f.format == "json" {
		e := json.NewEncoder(out)
		e.SetIndent("", "  ")
		err = e.Encode(rep)
	} else {
		err = rep.text(out)
	}
	if err != nil {
		return err
	}
	switch {
	case lossy > 0:
		return withCode(exitCheckFailed, fmt.Errorf("check-transforms: lossy rows in %d of %d checks", lossy, len(rep.Checks)))
	case failed > 0:
		return withCode(exitNoMeasure, fmt.Errorf("check-transforms: %d of %d checks could not read their table", failed, len(rep.Checks)))
	}
	return nil
}

// checkTableIndexes resolves --tables (names on blue) to indexes of the
// config's tables; none given means all.
func (a *app) checkTableIndexes(names []string) ([]int, error) {
	var out []int
	if len(names) == 0 {
		for i := range a.cfg.TableList {
			out = append(out, i)
		}
		return out, nil
	}
	for _, n := range names {
		ref, err := config.ParseTableName(strings.TrimSpace(n))
		if err != nil {
			return nil, fmt.Errorf("--tables %q: %w", n, err)
		}
		found := -1
		for i, t := range a.cfg.TableList {
			if b, err := t.On(config.Blue); err == nil && b == ref {
				found = i
			}
		}
		if found < 0 {
			return nil, fmt.Errorf("--tables: %s is not a synced table of %s (give its name on blue)", ref, a.cfg.Name)
		}
		out = append(out, found)
	}
	return out, nil
}

// checkRoundTrip samples table i on side from and maps every row there and
// back. A read error is recorded in the result, not returned.
func (a *app) checkRoundTrip(ctx context.Context, conns *sideConns, ms map[config.Side]mappings, i int, from config.Side, f *checkTransformsFlags) rtCheck {
	t := a.cfg.TableList[i]
	blue, _ := t.On(config.Blue)
	src, _ := t.On(from)
	via, _ := t.On(from.Other())
	res := rtCheck{Table: blue.String(), From: string(from), Source: src.String(), Via: via.String(),
		Direction:    fmt.Sprintf("%s→%s→%s", from, from.Other(), from),
		LossyColumns: map[string]int64{}, NotRoundTripped: []string{}, Samples: []rtSample{}}
	tbl, err := a.openSample(ctx, conns, from, src)
	if err != nil {
		res.Error = fmt.Sprintf("%s: %s", from, scrubAll(err.Error()))
		return res
	}
	defer tbl.close()
	rt := newRoundTrip(tbl.cols, ms[from][src], ms[from.Other()][via], a.cfg.TransformRule(i, from), a.cfg.TransformRule(i, from.Other()),
		hopName(from), hopName(from.Other()))
	rt.ccols = tbl.ccols
	reformat := map[string]bool{}
	notRT := map[string]bool{}
	for _, c := range rt.notFilled {
		notRT[c] = true
	}
	err = tbl.read(ctx, f.sample, func(row change.Row) {
		res.RowsChecked++
		diffs, absent, reformatted, ferr := rt.check(row)
		for _, c := range absent {
			notRT[c] = true
		}
		for _, c := range reformatted {
			reformat[c] = true
		}
		key := rt.key(row)
		if ferr != nil {
			res.LossyRows++
			res.FailedRows++
			if len(res.Samples) < f.show {
				res.Samples = append(res.Samples, rt.failureSample(key, ferr))
			}
			return
		}
		if len(diffs) == 0 {
			return
		}
		res.LossyRows++
		for _, d := range diffs {
			res.LossyColumns[d.column]++
			if len(res.Samples) < f.show {
				res.Samples = append(res.Samples, rtSample{Table: src.String(), Key: key, Column: d.column,
					Original: jsonValue(d.original), RoundTrip: jsonValue(d.after), Expressions: rt.involved(d.column)})
			}
		}
	})
	if err != nil {
		res.Error = fmt.Sprintf("%s: %s", from, scrubAll(err.Error()))
	}
	for c := range notRT {
		res.NotRoundTripped = append(res.NotRoundTripped, c)
	}
	sort.Strings(res.NotRoundTripped)
	for c := range reformat {
		res.ReformattedJSON = append(res.ReformattedJSON, c)
	}
	sort.Strings(res.ReformattedJSON)
	return res
}

// hopName is the config key of the transform from side from.
func hopName(from config.Side) string { return fmt.Sprintf("%s_to_%s", from, from.Other()) }

// sampleRows reads up to limit rows of t (all if limit is 0) in primary
// key order, as text, and calls each with every decoded row.
func sampleRows(ctx context.Context, conn *pgx.Conn, t change.Table, cols []transform.Column, limit int, each func(change.Row)) error {
	sql := selectSample(t, cols, limit)
	rows, err := conn.Query(ctx, sql, pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		return fmt.Errorf("read %s: %w", t, err)
	}
	defer rows.Close()
	for rows.Next() {
		row, err := transform.DecodeRow(cols, rows.RawValues())
		if err != nil {
			return fmt.Errorf("read %s: %w", t, err)
		}
		each(row)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", t, err)
	}
	return nil
}

// selectSample is the sampling statement: every column, in key order.
func selectSample(t change.Table, cols []transform.Column, limit int) string {
	names := make([]string, len(cols))
	var keys []string
	for i, c := range cols {
		names[i] = pgx.Identifier{c.Name}.Sanitize()
		if c.Key {
			keys = append(keys, names[i])
		}
	}
	sql := "SELECT " + strings.Join(names, ", ") + " FROM " + pgx.Identifier{t.Schema, t.Name}.Sanitize()
	if len(keys) > 0 {
		sql += " ORDER BY " + strings.Join(keys, ", ")
	}
	if limit > 0 {
		sql += fmt.Sprintf(" LIMIT %d", limit)
	}
	return sql
}

// text writes the report for people.
func (r *rtReport) text(w io.Writer) error {
	var b strings.Builder
	lossy := 0
	for i, c := range r.Checks {
		if i == 0 || r.Checks[i-1].Table != c.Table {
			other := c.Via
			if c.From == string(config.Green) {
				other = c.Source
			}
			fmt.Fprintf(&b, "%s ⇄ %s\n", c.Table, other)
		}
		if c.LossyRows > 0 {
			lossy++
		}
		fmt.Fprintf(&b, "  %s: ", c.Direction)
		if c.Error != "" {
			fmt.Fprintf(&b, "could not read: %s (after %d rows)\n", c.Error, c.RowsChecked)
			if c.RowsChecked == 0 {
				continue
			}
			b.WriteString("    ")
		}
		fmt.Fprintf(&b, "%d rows checked, %d lossy", c.RowsChecked, c.LossyRows)
		var parts []string
		for col, n := range c.LossyColumns {
			parts = append(parts, fmt.Sprintf("%s: %d", col, n))
		}
		sort.Strings(parts)
		if c.FailedRows > 0 {
			parts = append(parts, fmt.Sprintf("mapping failed: %d", c.FailedRows))
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
		}
		b.WriteString("\n")
		nrt := "(none)"
		if len(c.NotRoundTripped) > 0 {
			nrt = strings.Join(c.NotRoundTripped, ", ")
		}
		fmt.Fprintf(&b, "    not round-tripped: %s\n", nrt)
		if len(c.ReformattedJSON) > 0 {
			fmt.Fprintf(&b, "    JSON text reformatted, same data: %s\n", strings.Join(c.ReformattedJSON, ", "))
		}
		for _, s := range c.Samples {
			if s.Error != "" {
				at := s.Transform
				if s.Target != "" {
					at = fmt.Sprintf("%s at %s.%s", s.Transform, s.Target, s.Column)
				}
				fmt.Fprintf(&b, "    %s %s: %s failed: %s\n", s.Table, s.Key, at, s.Error)
			} else {
				fmt.Fprintf(&b, "    %s %s %s: %s → %s\n", s.Table, s.Key, s.Column, textValue(s.Original), textValue(s.RoundTrip))
			}
			for _, e := range s.Expressions {
				fmt.Fprintf(&b, "      %s\n", e)
			}
		}
	}
	if lossy > 0 {
		fmt.Fprintf(&b, "%d of %d checks found lossy rows\n", lossy, len(r.Checks))
	} else if r.Status == "lossless" {
		fmt.Fprintf(&b, "no lossy rows in %d checks\n", len(r.Checks))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonValue is v for the JSON report: its canonical text, null for NULL.
func jsonValue(v change.Value) json.RawMessage {
	if v.Kind == change.KindNull {
		return json.RawMessage("null")
	}
	b, _ := json.Marshal(displayValue(v))
	return b
}

// textValue is a jsonValue for the text report: quoted, or NULL.
func textValue(j json.RawMessage) string {
	var s *string
	if json.Unmarshal(j, &s) != nil || s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}

// displayValue is v's canonical text, readable for the values that carry
// no data.
func displayValue(v change.Value) string {
	switch v.Kind {
	case change.KindNull:
		return "NULL"
	case change.KindUnchanged, change.KindAbsent:
		return "(not set)"
	}
	return transform.Canonical(v)
}

// roundTrip maps rows of one table from one side to the other and back.
// It is pure: no database, the same row gives the same result.
type roundTrip struct {
	cols              []transform.Column
	ccols             []change.Column
	colIdx            map[string]int
	keyIdx            []int
	fwdM, backM       *transform.Mapping
	fwd, back         *transform.Mapper
	fwdRule, backRule transform.Rule
	fwdHop, backHop   string
	notFilled         []string // source columns the way back does not fill
}

// rtDiff is one column a round trip changed.
type rtDiff struct {
	column          string
	original, after change.Value
}

// hopError is a mapping that failed on a row, with the transform (config
// key and rule) it failed in.
type hopError struct {
	hop  string
	rule transform.Rule
	err  error
}

func (e *hopError) Error() string { return e.hop + ": " + e.err.Error() }
func (e *hopError) Unwrap() error { return e.err }

func newRoundTrip(cols []transform.Column, fwd, back *transform.Mapping, fwdRule, backRule transform.Rule, fwdHop, backHop string) *roundTrip {
	r := &roundTrip{cols: cols, ccols: transform.ChangeColumns(cols), colIdx: map[string]int{},
		fwdM: fwd, backM: back, fwd: fwd.NewMapper(), back: back.NewMapper(),
		fwdRule: fwdRule, backRule: backRule, fwdHop: fwdHop, backHop: backHop}
	for i, c := range cols {
		r.colIdx[c.Name] = i
		if c.Key {
			r.keyIdx = append(r.keyIdx, i)
		}
	}
	filled := map[string]bool{}
	for _, c := range back.Columns() {
		filled[c.Name] = true
	}
	for _, c := range cols {
		if !filled[c.Name] {
			r.notFilled = append(r.notFilled, c.Name)
		}
	}
	return r
}

// check maps row there and back. It returns the columns whose value
// changed, the columns the way back left unset (their inputs were not
// filled on the way out), or the error of the mapping that failed.
func (r *roundTrip) check(row change.Row) (diffs []rtDiff, unset, reformatted []string, err error) {
	there, err := r.fwd.Map(&change.Change{Op: change.OpInsert, Table: r.fwdM.Source(), Columns: r.ccols, After: row})
	if err != nil {
		return nil, nil, nil, &hopError{hop: r.fwdHop, rule: r.fwdRule, err: err}
	}
	back, err := r.back.Map(&change.Change{Op: change.OpInsert, Table: there.Table, Columns: there.Columns, After: there.After})
	if err != nil {
		return nil, nil, nil, &hopError{hop: r.backHop, rule: r.backRule, err: err}
	}
	for j, c := range back.Columns {
		v := back.After[j]
		if v.Kind == change.KindAbsent || v.Kind == change.KindUnchanged {
			unset = append(unset, c.Name)
			continue
		}
		k, ok := r.colIdx[c.Name]
		if !ok || k >= len(row) {
			continue
		}
		if transform.Canonical(row[k]) != transform.Canonical(v) {
			if sameJSON(row[k], v) {
				reformatted = append(reformatted, c.Name)
				continue
			}
			diffs = append(diffs, rtDiff{column: c.Name, original: row[k], after: v})
		}
	}
	return diffs, unset, reformatted, nil
}

// sameJSON reports whether two texts (a text column that went through a
// json or jsonb column and back) hold the same JSON data: the way back
// prints it as the JSON column does (jsonb sorts keys), which changes the
// text but not what it says.
func sameJSON(a, b change.Value) bool {
	if a.Kind != change.KindText || b.Kind != change.KindText || !json.Valid([]byte(a.S)) || !json.Valid([]byte(b.S)) {
		return false
	}
	return transform.Canonical(change.JSON(a.S)) == transform.Canonical(change.JSON(b.S))
}

// key names row by its primary key, "id=3" or "a=x, b=2"; "" without one.
func (r *roundTrip) key(row change.Row) string {
	parts := make([]string, 0, len(r.keyIdx))
	for _, i := range r.keyIdx {
		if i < len(row) {
			parts = append(parts, r.cols[i].Name+"="+displayValue(row[i]))
		}
	}
	return strings.Join(parts, ", ")
}

// involved lists the transform entries a round-tripped column went
// through: those filling the other side's columns it was computed from,
// then the one computing it on the way back.
func (r *roundTrip) involved(col string) []string {
	backDesc, via := provenance(r.backRule, r.backHop, col, r.backM.Inputs())
	filled := map[string]bool{}
	for _, c := range r.fwdM.Columns() {
		filled[c.Name] = true
	}
	var out []string
	for _, x := range via {
		if !filled[x] {
			out = append(out, fmt.Sprintf("%s does not fill %s", r.fwdHop, x))
			continue
		}
		d, _ := provenance(r.fwdRule, r.fwdHop, x, r.fwdM.Inputs())
		out = append(out, d)
	}
	return append(out, backDesc)
}

// failureSample describes a row a mapping failed on.
func (r *roundTrip) failureSample(key string, err error) rtSample {
	s := rtSample{Table: r.fwdM.Source().String(), Key: key, Error: firstLine(err.Error()), Expressions: []string{}}
	var he *hopError
	var re *transform.RowError
	if errors.As(err, &he) {
		s.Transform = he.hop
		s.Error = firstLine(he.err.Error())
	}
	if he != nil && errors.As(err, &re) {
		s.Target, s.Column = re.Target.String(), re.Column
		src := r.fwdM.Inputs()
		if he.hop == r.backHop {
			src = r.backM.Inputs()
		}
		d, _ := provenance(he.rule, he.hop, re.Column, src)
		s.Expressions = append(s.Expressions, d)
		s.Error = firstLine(re.Err.Error())
	}
	return s
}

// firstLine is the first line of an error text: expr's errors add the
// expression and a caret on the next lines, which the report shows anyway.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// provenance says which entry of rule (the transform hop) fills target
// column col, and the source columns (of srcCols) it reads.
func provenance(rule transform.Rule, hop, col string, srcCols []string) (string, []string) {
	if e, ok := rule.Set[col]; ok {
		return fmt.Sprintf("%s set %s = %s", hop, col, e), exprColumns(e, srcCols)
	}
	renamed := make([]string, 0, len(rule.Rename))
	for s := range rule.Rename {
		renamed = append(renamed, s)
	}
	sort.Strings(renamed)
	for _, s := range renamed {
		if rule.Rename[s] == col {
			return fmt.Sprintf("%s rename %s → %s", hop, s, col), []string{s}
		}
	}
	return fmt.Sprintf("%s copy %s", hop, col), []string{col}
}

// exprColumns returns the columns of cols an expression reads, in order
// of first use: identifiers outside string literals that are not a
// member (x.name), and $env["name"].
func exprColumns(e string, cols []string) []string {
	known := map[string]bool{}
	for _, c := range cols {
		known[c] = true
	}
	var out []string
	seen := map[string]bool{}
	add := func(c string) {
		if known[c] && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	identStart := func(c byte) bool { return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	for i := 0; i < len(e); {
		c := e[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(e) && e[j] != c {
				if e[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if strings.HasSuffix(strings.TrimSpace(e[:i]), "$env[") && j <= len(e) {
				add(e[i+1 : min(j, len(e))])
			}
			i = j + 1
		case identStart(c):
			j := i + 1
			for j < len(e) && (identStart(e[j]) || e[j] >= '0' && e[j] <= '9') {
				j++
			}
			if before := strings.TrimRight(e[:i], " \t"); !strings.HasSuffix(before, ".") || strings.HasSuffix(before, "..") {
				add(e[i:j])
			}
			i = j
		default:
			i++
		}
	}
	return out
}
