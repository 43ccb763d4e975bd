package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/jackc/pgx/v5/pgconn"
)

// rowState is what the applier knows of one target row while it resolves a
// group: the row as the group's earlier changes left it.
type rowState struct {
	exists  bool
	row     change.Row // in target column order; KindAbsent = not known
	ts      time.Time  // commit time of the version, zero if unknown
	local   bool       // written by anything but this applier
	deleted time.Time  // commit time of the target's last local delete (tombstone)
	// colTimes (column-merge tables): commit time of the application's
	// last write of each column, by column name.
	colTimes map[string]time.Time
}

// tableState is the rows of one target table that a group touches.
type tableState struct {
	tt     *targetTable
	rule   conflict.Rule
	colIdx map[string]int // column → index in tt.order
	keyIdx []int          // key columns' indexes in tt.order
	rows   map[string]*rowState
	want   map[string][]change.Value // keys to fetch: canonical key → key values
	uses   map[string]int            // changes of the group still to read each key
	// truncated: a TRUNCATE earlier in the group removed every row not
	// written since.
	truncated bool
}

func newTableState(tt *targetTable, rule conflict.Rule) *tableState {
	st := &tableState{tt: tt, rule: rule, colIdx: map[string]int{}, rows: map[string]*rowState{}, want: map[string][]change.Value{}, uses: map[string]int{}}
	for i, c := range tt.order {
		st.colIdx[c] = i
	}
	for _, k := range tt.key {
		st.keyIdx = append(st.keyIdx, st.colIdx[k])
	}
	return st
}

// canonicalKey encodes key values (in key order) as a map key.
func canonicalKey(vals []change.Value) string {
	var buf []byte
	for _, v := range vals {
		buf = change.AppendValue(buf, v)
	}
	return string(buf)
}

// keyOf returns the canonical key of img (a row image aligned with cols)
// and its key values; ok is false when the image lacks a key value.
func (st *tableState) keyOf(cols []change.Column, img change.Row) (string, []change.Value, bool) {
	if img == nil {
		return "", nil, false
	}
	vals := make([]change.Value, len(st.tt.key))
	for n, k := range st.tt.key {
		i := columnIndex(cols, k)
		if i < 0 || i >= len(img) || !known(img[i]) || img[i].Kind == change.KindNull {
			return "", nil, false
		}
		vals[n] = img[i]
	}
	return canonicalKey(vals), vals, true
}

func known(v change.Value) bool { return v.Kind != change.KindAbsent && v.Kind != change.KindUnchanged }

// lookup returns the state of key, fetched or as the group left it.
func (st *tableState) lookup(key string) *rowState {
	rs, ok := st.rows[key]
	if !ok {
		rs = &rowState{}
		st.rows[key] = rs
	}
	return rs
}

// aligned returns the row's values for cols (KindAbsent where unknown).
func (st *tableState) aligned(rs *rowState, cols []change.Column) change.Row {
	out := make(change.Row, len(cols))
	for i, c := range cols {
		out[i] = change.Absent()
		if j, ok := st.colIdx[c.Name]; ok && j < len(rs.row) {
			out[i] = rs.row[j]
		}
	}
	return out
}

// write records that the applier wrote img (aligned with cols) to rs;
// KindUnchanged values keep what rs had.
func (st *tableState) write(rs *rowState, cols []change.Column, img change.Row, ts time.Time, whole bool) {
	if whole || !rs.exists || rs.row == nil {
		rs.row = make(change.Row, len(st.tt.order))
		for i := range rs.row {
			rs.row[i] = change.Absent()
		}
	} else {
		rs.row = append(change.Row(nil), rs.row...)
	}
	for i, c := range cols {
		if j, ok := st.colIdx[c.Name]; ok && i < len(img) && img[i].Kind != change.KindUnchanged {
			rs.row[j] = img[i]
		}
	}
	rs.exists, rs.ts, rs.local = true, ts, false
}

// fetch reads, inside the open target transaction, the current rows (locked
// FOR UPDATE, so the application cannot change them until COMMIT) and the
// tombstones of every key the group touches.
func (a *Applier) fetch(ctx context.Context, st *tableState) error {
	if len(st.want) == 0 {
		return nil
	}
	tt := st.tt
	keys := make([][]change.Value, 0, len(st.want))
	for _, vals := range st.want {
		keys = append(keys, vals)
	}
	params := make([][]byte, len(tt.key))
	for n := range tt.key {
		elems := make([]change.Value, len(keys))
		for i, vals := range keys {
			elems[i] = vals[n]
		}
		b, err := pgtext.Encode(nil, change.Array(elems))
		if err != nil {
			return fmt.Errorf("table %s key column %s: %w", tt.name, tt.key[n], err)
		}
		params[n] = b
	}
	pc := a.conn.PgConn()
	q := a.queries(tt)
	res := pc.ExecParams(ctx, q.current, params, nil, nil, nil).Read()
	if res.Err != nil {
		return a.fetchError(tt, res.Err)
	}
	nc := len(tt.order)
	for _, r := range res.Rows {
		rs := &rowState{exists: true, row: make(change.Row, nc)}
		for i := 0; i < nc; i++ {
			if r[i] == nil {
				continue // NULL
			}
			v, err := a.types.Decode(res.FieldDescriptions[i].DataTypeOID, r[i])
			if err != nil {
				return fmt.Errorf("table %s column %s: read current row: %w", tt.name, tt.order[i], err)
			}
			rs.row[i] = v
		}
		if r[nc] != nil {
			ts, err := parseTimestamptz(r[nc])
			if err != nil {
				return fmt.Errorf("table %s: commit timestamp %q: %w", tt.name, r[nc], err)
			}
			rs.ts = ts
		}
		rs.local = string(r[nc+1]) != a.originID
		vals := make([]change.Value, len(st.keyIdx))
		for n, i := range st.keyIdx {
			vals[n] = rs.row[i]
		}
		st.rows[canonicalKey(vals)] = rs
	}
	if !a.commitTS {
		return nil
	}
	params = append(params, []byte(tt.name.Schema), []byte(tt.name.Name))
	res = pc.ExecParams(ctx, q.tombstones, params, nil, nil, nil).Read()
	if res.Err != nil {
		return a.fetchError(tt, res.Err)
	}
	found, err := a.sidecarKeys(tt, res, "tombstone")
	if err != nil {
		return err
	}
	nk := len(tt.key)
	for n, r := range res.Rows {
		if r[nk] == nil {
			continue // commit time no longer known: as old as can be
		}
		ts, err := parseTimestamptz(r[nk])
		if err != nil {
			return fmt.Errorf("table %s: tombstone time %q: %w", tt.name, r[nk], err)
		}
		st.lookup(found[n]).deleted = ts
	}
	if st.rule.Policy != conflict.ColumnMerge {
		return nil
	}
	res = pc.ExecParams(ctx, q.columnWrites, params, nil, nil, nil).Read()
	if res.Err != nil {
		return a.fetchError(tt, res.Err)
	}
	if found, err = a.sidecarKeys(tt, res, "column writes"); err != nil {
		return err
	}
	for n, r := range res.Rows {
		times, err := parseColumnTimes(r[nk])
		if err != nil {
			return fmt.Errorf("table %s: column writes %q: %w", tt.name, r[nk], err)
		}
		st.lookup(found[n]).colTimes = times
	}
	return nil
}

// sidecarKeys decodes the key columns that lead each row of a sidecarSQL
// result into canonical keys.
func (a *Applier) sidecarKeys(tt *targetTable, res *pgconn.Result, what string) ([]string, error) {
	nk := len(tt.key)
	out := make([]string, len(res.Rows))
	vals := make(change.Row, nk)
	for n, r := range res.Rows {
		for i := 0; i < nk; i++ {
			v, err := a.types.Decode(res.FieldDescriptions[i].DataTypeOID, r[i])
			if err != nil {
				return nil, fmt.Errorf("table %s key column %s: read %s: %w", tt.name, tt.key[i], what, err)
			}
			vals[i] = v
		}
		out[n] = canonicalKey(vals)
	}
	return out, nil
}

// parseColumnTimes reads columnWritesSQL's JSON object.
func parseColumnTimes(b []byte) (map[string]time.Time, error) {
	if b == nil {
		return nil, nil
	}
	var raw map[string]*int64
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(raw))
	for col, us := range raw {
		if us != nil {
			out[col] = time.UnixMicro(*us).UTC()
		}
	}
	return out, nil
}

// columnTimes aligns a row's column write times with cols.
func (rs *rowState) columnTimes(cols []change.Column) []time.Time {
	if rs.colTimes == nil {
		return nil
	}
	out := make([]time.Time, len(cols))
	for i, c := range cols {
		out[i] = rs.colTimes[c.Name]
	}
	return out
}

func (a *Applier) fetchError(tt *targetTable, err error) error {
	if isStatementError(err) {
		return &ApplyError{Table: tt.name, Op: change.OpUpdate, Key: "(current rows)", Err: err}
	}
	return &TargetError{Op: "read current rows of " + tt.name.String(), Err: err}
}

// fetchQueries are the statements fetch runs for one target table; they
// depend only on the table and the session, so each is built once.
type fetchQueries struct{ current, tombstones, columnWrites string }

func (a *Applier) queries(tt *targetTable) *fetchQueries {
	if q, ok := a.fetchSQL[tt]; ok {
		return q
	}
	q := &fetchQueries{current: a.currentSQL(tt), tombstones: a.tombstoneSQL(tt), columnWrites: a.columnWritesSQL(tt)}
	a.fetchSQL[tt] = q
	return q
}

// currentSQL selects the rows with the keys given as one array parameter
// per key column, with the commit time and origin of each row's version.
func (a *Applier) currentSQL(tt *targetTable) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	appendQualified(&b, "t", tt.order)
	// The commit time and origin are computed in the select list, not in a
	// joined function scan: when FOR UPDATE waits for a concurrent writer,
	// PostgreSQL re-reads the locked row's new version, but hands a joined
	// scan's values over from the old version (EvalPlanQual). A LATERAL
	// join here returned the previous version's origin, which made an
	// application write look like this applier's and lose to it.
	if a.commitTS {
		b.WriteString(", (pg_xact_commit_timestamp_origin(t.xmin)).timestamp," +
			" (pg_xact_commit_timestamp_origin(t.xmin)).roident::text")
	} else {
		b.WriteString(", NULL::timestamptz, NULL::text")
	}
	b.WriteString(" FROM " + quoteTable(tt.name) + " t WHERE (")
	appendQualified(&b, "t", tt.key)
	b.WriteString(") IN (SELECT * FROM unnest(")
	a.appendKeyArrays(&b, tt)
	b.WriteString(")) ORDER BY ")
	appendQualified(&b, "t", tt.key)
	b.WriteString(" FOR UPDATE OF t")
	return b.String()
}

// tombstoneSQL selects the commit times of the tombstones of the keys.
func (a *Applier) tombstoneSQL(tt *targetTable) string {
	return a.sidecarSQL(tt, quoteIdent(a.cfg.Schema)+".xact_time(d.xid)", "tombstones")
}

// columnWritesSQL selects, for the keys' rows, the commit time of the
// application's last write of each column, as a JSON object of column →
// microseconds since 1970 (null where unknown).
func (a *Applier) columnWritesSQL(tt *targetTable) string {
	return a.sidecarSQL(tt, "(SELECT jsonb_object_agg(e.key, floor(extract(epoch FROM "+quoteIdent(a.cfg.Schema)+
		".xact_time(e.value::xid8)) * 1000000)::bigint) FROM jsonb_each_text(d.cols) AS e)", "column_writes")
}

// sidecarSQL selects the key columns and expr (over d) from one of
// bgsync's tables keyed by table name and key JSON, for the keys given as
// arrays (then the schema and name of the table as two more parameters).
func (a *Applier) sidecarSQL(tt *targetTable, expr, table string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	appendQualified(&b, "k", tt.key)
	b.WriteString(", " + expr + " FROM unnest(")
	a.appendKeyArrays(&b, tt)
	b.WriteString(") AS k(")
	appendIdents(&b, tt.key)
	n := len(tt.key)
	b.WriteString(") JOIN " + quoteIdent(a.cfg.Schema) + "." + table + " d ON d.table_name = quote_ident($" +
		strconv.Itoa(n+1) + ") || '.' || quote_ident($" + strconv.Itoa(n+2) + ") AND d.key = jsonb_build_object(")
	for i, k := range tt.key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteLiteral(k) + ", k." + quoteIdent(k))
	}
	b.WriteString(")")
	return b.String()
}

func (a *Applier) appendKeyArrays(b *strings.Builder, tt *targetTable) {
	for i, k := range tt.key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+1) + "::" + tt.columns[k] + "[]")
	}
}

// parseTimestamptz reads a timestamptz in the session's ISO output.
func parseTimestamptz(b []byte) (time.Time, error) {
	v, err := pgtext.Decode(1184, b)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMicro(v.I + change.Epoch2000Unix).UTC(), nil
}
