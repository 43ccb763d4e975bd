package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	applymy "github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/bgsync/bgsync/transform"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Conflicts on pairs with a MariaDB/MySQL side: the conflicts table of
// such a side is read and marked like PostgreSQL's; --keep copies a row
// through change.Values (apply/mysql's Decode and Encode on that side,
// PostgreSQL's text forms on the other), converted between engines by the
// same implicit mapping the directions use.

// myConflictsTable is the conflicts table of a MariaDB/MySQL side.
func (a *app) myConflictsTable() string {
	return "`" + strings.ReplaceAll(a.cfg.Name, "`", "``") + "`.conflicts"
}

// listConflictsMy reads the conflicts table of a MariaDB/MySQL side. Keys
// print as PostgreSQL prints a jsonb (pgKeyText), so a row's key reads the
// same whichever side logged it.
func (a *app) listConflictsMy(ctx context.Context, side config.Side, all bool) ([]loggedConflict, error) {
	db, err := a.openMy(ctx, side)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	q := "SELECT id, DATE_FORMAT(detected_at, '%Y-%m-%d %H:%i:%s.%f'), direction, table_name, `key`, kind, policy, resolution, reason, resolved FROM " +
		a.myConflictsTable()
	if !all {
		q += " WHERE NOT resolved"
	}
	rows, err := db.QueryContext(ctx, q+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("%s: read conflicts: %s", side, scrubAll(err.Error()))
	}
	defer rows.Close()
	var out []loggedConflict
	for rows.Next() {
		var c loggedConflict
		var id int64
		var detected, key string
		if err := rows.Scan(&id, &detected, &c.Direction, &c.Table, &key, &c.Kind, &c.Policy, &c.Resolution, &c.Reason, &c.Resolved); err != nil {
			return nil, fmt.Errorf("%s: read conflicts: %w", side, err)
		}
		if c.DetectedAt, err = time.ParseInLocation("2006-01-02 15:04:05.000000", detected, time.UTC); err != nil {
			return nil, fmt.Errorf("%s: conflict %d: detected_at %q: %w", side, id, detected, err)
		}
		c.ID, c.Side, c.Key = string(side)+":"+strconv.FormatInt(id, 10), string(side), json.RawMessage(pgKeyText(key))
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: read conflicts: %w", side, err)
	}
	return out, nil
}

// pgKeyText prints a logged key (a JSON object of column → text or null)
// the way PostgreSQL prints it as jsonb: keys ordered by length, then
// bytes; ", " and ": " between them; no HTML escaping. Anything else is
// returned as it is.
func pgKeyText(key string) string {
	var m map[string]*string
	if err := json.Unmarshal([]byte(key), &m); err != nil {
		return key
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if len(names[i]) != len(names[j]) {
			return len(names[i]) < len(names[j])
		}
		return names[i] < names[j]
	})
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	put := func(v any) {
		_ = enc.Encode(v) // strings and nil only: cannot fail
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		put(k)
		b.WriteString(": ")
		put(m[k])
	}
	b.WriteByte('}')
	return b.String()
}

// myKeyJSON is a logged key in the form apply/mysql writes it
// (apply.ImageJSON: compact, keys sorted), for matching conflicts rows on
// a MariaDB side by text.
func myKeyJSON(key string) (string, map[string]*string, error) {
	var m map[string]*string
	if err := json.Unmarshal([]byte(key), &m); err != nil || len(m) == 0 {
		return "", nil, fmt.Errorf("unreadable key %s", key)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", nil, fmt.Errorf("unreadable key %s", key)
	}
	return string(b), m, nil
}

// resolveConns holds a connection per side for resolve: pgx on
// PostgreSQL, an apply/mysql Session on MariaDB/MySQL.
type resolveConns struct {
	pg map[config.Side]*pgx.Conn
	my map[config.Side]*applymy.Session
	// What each side says of a table, read once per run.
	cols   map[sideTable][]transform.Column
	tables map[sideTable]*applymy.TargetTable
}

type sideTable struct {
	side  config.Side
	table change.Table
}

// columns reads t's columns on side (transform's view: generated columns
// left out), once.
func (c *resolveConns) columns(ctx context.Context, side config.Side, t change.Table) ([]transform.Column, error) {
	k := sideTable{side, t}
	if cols, ok := c.cols[k]; ok {
		return cols, nil
	}
	var cols []transform.Column
	var err error
	if s := c.my[side]; s != nil {
		cols, err = transform.ReadMySQLColumns(ctx, s.Conn(), t)
	} else {
		cols, err = transform.ReadColumns(ctx, c.pg[side], t)
	}
	if err != nil {
		return nil, err
	}
	c.cols[k] = cols
	return cols, nil
}

// myTable reads t's column types and key on a MariaDB/MySQL side, once.
func (c *resolveConns) myTable(ctx context.Context, side config.Side, t change.Table) (*applymy.TargetTable, error) {
	k := sideTable{side, t}
	if tt, ok := c.tables[k]; ok {
		return tt, nil
	}
	tt, err := c.my[side].ReadTable(ctx, t)
	if err != nil {
		return nil, err
	}
	c.tables[k] = tt
	return tt, nil
}

func (c *resolveConns) close() {
	for _, p := range c.pg {
		p.Close(context.Background())
	}
	for _, m := range c.my {
		m.Close()
	}
}

// resolveEngines is resolveConflicts on a pair with a MariaDB/MySQL side.
// The write to the side that is not kept must not travel back: on
// PostgreSQL it carries bgsync's resolve origin (as between two
// PostgreSQL sides); on MariaDB the session runs with skip_replication;
// on MySQL each settling transaction first writes the apply_marker row
// "resolve", by which the capture drops it.
func (a *app) resolveEngines(ctx context.Context, refs []rowRef, keep string) (int, error) {
	c := &resolveConns{pg: map[config.Side]*pgx.Conn{}, my: map[config.Side]*applymy.Session{},
		cols: map[sideTable][]transform.Column{}, tables: map[sideTable]*applymy.TargetTable{}}
	defer c.close()
	for _, side := range []config.Side{config.Blue, config.Green} {
		if !a.binlog(side) {
			conn, err := a.connect(ctx, side)
			if err != nil {
				return 0, err
			}
			c.pg[side] = conn
			continue
		}
		s, err := applymy.OpenSession(ctx, a.dsn[side], a.cfg.Name, a.cfg.EngineOf(side) == config.EngineMySQL)
		if err != nil {
			return 0, fmt.Errorf("%s: %s", side, scrubAll(err.Error()))
		}
		c.my[side] = s
	}
	if keep != "current" {
		if to := config.Side(keep).Other(); c.pg[to] != nil {
			if err := a.useResolveOrigin(ctx, c.pg[to]); err != nil {
				return 0, fmt.Errorf("%s: %w", to, err)
			}
		}
	}
	for n, r := range refs {
		if err := a.settleRowEngines(ctx, c, r, keep); err != nil {
			return n, fmt.Errorf("table %s key %s: %w", r.table, r.key, err)
		}
	}
	return len(refs), nil
}

// resolvedBy is what resolved_by says.
func resolvedBy(keep string) string { return "bgsync conflicts resolve --keep " + keep }

// markPG marks r's conflicts on a PostgreSQL side resolved, on q (the
// connection or the settling transaction).
func (a *app) markPG(ctx context.Context, exec func(context.Context, string, ...any) (pgconn.CommandTag, error), r rowRef, keep string) error {
	_, err := exec(ctx, `UPDATE `+pgx.Identifier{a.cfg.Name}.Sanitize()+`.conflicts SET resolved = true, resolved_at = now(), resolved_by = $3
WHERE NOT resolved AND table_name = $1 AND key = $2::jsonb`, r.table, r.key, resolvedBy(keep))
	return err
}

// markMy marks r's conflicts on a MariaDB/MySQL side resolved. MariaDB
// stores the key as apply/mysql wrote it, so it is matched as that text;
// MySQL's JSON type is compared as JSON.
func (a *app) markMy(ctx context.Context, exec func(context.Context, string, ...any) (sql.Result, error), s *applymy.Session, r rowRef, keep string) error {
	key, _, err := myKeyJSON(r.key)
	if err != nil {
		return err
	}
	match := "`key` = ?"
	if !s.MariaDB() {
		match = "`key` = CAST(? AS JSON)"
	}
	_, err = exec(ctx, "UPDATE "+a.myConflictsTable()+
		" SET resolved = TRUE, resolved_at = UTC_TIMESTAMP(6), resolved_by = ? WHERE NOT resolved AND table_name = ? AND "+match,
		resolvedBy(keep), r.table, key)
	return err
}

// mark marks r's conflicts on side resolved, outside any transaction.
func (a *app) mark(ctx context.Context, c *resolveConns, side config.Side, r rowRef, keep string) error {
	var err error
	if s := c.my[side]; s != nil {
		err = a.markMy(ctx, s.Conn().ExecContext, s, r, keep)
	} else {
		err = a.markPG(ctx, c.pg[side].Exec, r, keep)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", side, err)
	}
	return nil
}

// settleRowEngines is settleRow across engines: it reads the kept side's
// row (nil: absent), converts it to the other side's kinds when the
// engines differ, replaces the other side's row with it (a delete when
// absent) and marks the row's conflicts resolved there in the same
// transaction, then on the kept side.
func (a *app) settleRowEngines(ctx context.Context, c *resolveConns, r rowRef, keep string) error {
	if keep == "current" {
		for _, side := range []config.Side{config.Blue, config.Green} {
			if err := a.mark(ctx, c, side, r, keep); err != nil {
				return err
			}
		}
		return nil
	}
	from := config.Side(keep)
	to := from.Other()
	t, err := a.settledTable(r, keep)
	if err != nil {
		return err
	}
	cols, row, err := a.readKept(ctx, c, from, t, r.key)
	if err != nil {
		return fmt.Errorf("%s: read row: %w", from, err)
	}
	if row != nil && a.binlog(from) != a.binlog(to) {
		if cols, row, err = a.convertRow(ctx, c, from, to, t, cols, row); err != nil {
			return fmt.Errorf("%s → %s: %w", from, to, err)
		}
	}
	if err := a.replaceRow(ctx, c, to, t, r, keep, cols, row); err != nil {
		return fmt.Errorf("%s: %w", to, err)
	}
	return a.mark(ctx, c, from, r, keep)
}

// readKept reads t's row with key on side: its columns (transform's view,
// generated columns left out) and values, nil when there is no such row.
func (a *app) readKept(ctx context.Context, c *resolveConns, side config.Side, t change.Table, key string) ([]transform.Column, change.Row, error) {
	cols, err := c.columns(ctx, side, t)
	if err != nil {
		return nil, nil, err
	}
	if s := c.my[side]; s != nil {
		tt, err := c.myTable(ctx, side, t)
		if err != nil {
			return nil, nil, err
		}
		_, m, err := myKeyJSON(key)
		if err != nil {
			return nil, nil, err
		}
		args, err := applymy.KeyArgs(tt, m)
		if err != nil {
			return nil, nil, err
		}
		row, err := s.ReadRow(ctx, tt, columnNames(cols), args)
		return cols, row, err
	}
	conn := c.pg[side]
	table := pgx.Identifier{t.Schema, t.Name}.Sanitize()
	match, args, err := keyMatch(table, key)
	if err != nil {
		return nil, nil, err
	}
	list := make([]string, len(cols))
	for i, col := range cols {
		list[i] = "t." + pgx.Identifier{col.Name}.Sanitize() + "::text"
	}
	rows, err := conn.Query(ctx, "SELECT "+strings.Join(list, ", ")+" FROM "+table+" t WHERE "+match, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return cols, nil, rows.Err()
	}
	fields := make([][]byte, len(cols))
	for i, f := range rows.RawValues() {
		if f != nil {
			fields[i] = append([]byte{}, f...)
		}
	}
	row, err := transform.DecodeRow(cols, fields)
	if err != nil {
		return nil, nil, err
	}
	return cols, row, rows.Err()
}

// convertRow maps a row of t read on from into to's kinds, by the
// implicit mapping a direction between the two engines uses.
func (a *app) convertRow(ctx context.Context, c *resolveConns, from, to config.Side, t change.Table, cols []transform.Column, row change.Row) ([]transform.Column, change.Row, error) {
	dst, err := c.columns(ctx, to, t)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", to, err)
	}
	out, err := transform.Implicit(t, t, cols, dst).NewMapper().Map(&change.Change{
		Op: change.OpInsert, Table: t, Columns: transform.ChangeColumns(cols), After: row,
	})
	if err != nil {
		return nil, nil, err
	}
	byName := make(map[string]transform.Column, len(dst))
	for _, d := range dst {
		byName[d.Name] = d
	}
	outCols := make([]transform.Column, len(out.Columns))
	for i, oc := range out.Columns {
		d, ok := byName[oc.Name]
		if !ok {
			return nil, nil, fmt.Errorf("column %s of %s does not exist on %s", oc.Name, t, to)
		}
		outCols[i] = d
	}
	return outCols, out.After, nil
}

// replaceRow makes t's row with r's key on side what row says (deleted
// when nil) and marks r's conflicts there resolved, in one transaction
// that is not captured back (see resolveEngines).
func (a *app) replaceRow(ctx context.Context, c *resolveConns, side config.Side, t change.Table, r rowRef, keep string, cols []transform.Column, row change.Row) error {
	if s := c.my[side]; s != nil {
		tt, err := c.myTable(ctx, side, t)
		if err != nil {
			return err
		}
		_, m, err := myKeyJSON(r.key)
		if err != nil {
			return err
		}
		args, err := applymy.KeyArgs(tt, m)
		if err != nil {
			return err
		}
		tx, err := s.Begin(ctx, "resolve")
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		if err := applymy.ReplaceRow(ctx, tx, tt, args, columnNames(cols), row); err != nil {
			return err
		}
		if err := a.markMy(ctx, tx.ExecContext, s, r, keep); err != nil {
			return err
		}
		return tx.Commit()
	}
	table := pgx.Identifier{t.Schema, t.Name}.Sanitize()
	match, args, err := keyMatch(table, r.key)
	if err != nil {
		return err
	}
	tx, err := c.pg[side].Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `DELETE FROM `+table+` t WHERE `+match, args...); err != nil {
		return fmt.Errorf("delete row: %w", err)
	}
	if row != nil {
		q, vals, err := pgInsert(table, cols, row)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, q, vals...); err != nil {
			return fmt.Errorf("write row: %w", err)
		}
	}
	if err := a.markPG(ctx, tx.Exec, r, keep); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// pgInsert builds the INSERT of row into a PostgreSQL table: each value
// is passed as its PostgreSQL text (pgtext.Encode) and read by the
// column type's own input function.
func pgInsert(table string, cols []transform.Column, row change.Row) (string, []any, error) {
	names := make([]string, 0, len(cols))
	params := make([]string, 0, len(cols))
	var vals []any
	for i, col := range cols {
		v := row[i]
		if v.Kind == change.KindAbsent || v.Kind == change.KindUnchanged {
			continue
		}
		names = append(names, pgx.Identifier{col.Name}.Sanitize())
		if v.Kind == change.KindNull {
			vals = append(vals, nil)
		} else {
			b, err := pgtext.Encode(nil, v)
			if err != nil {
				return "", nil, fmt.Errorf("column %s: %w", col.Name, err)
			}
			vals = append(vals, string(b))
		}
		params = append(params, fmt.Sprintf("$%d::text::%s", len(vals), col.Type))
	}
	if len(names) == 0 {
		return "", nil, errors.New("the row has no column to write")
	}
	return "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")", vals, nil
}

func columnNames(cols []transform.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}
