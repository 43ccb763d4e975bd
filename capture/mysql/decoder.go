package mysql

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/go-mysql-org/go-mysql/replication"
)

// skipReplicationFlag is LOG_EVENT_SKIP_REPLICATION_F: MariaDB sets it on
// every event written by a session with skip_replication=1 (bgsync's
// appliers). go-mysql has no constant for it.
const skipReplicationFlag uint16 = 0x8000

// pending is a transaction being read.
type pending struct {
	id       uint64
	gtid     change.Position // GTID positions: the group's GTID (0 before one)
	explicit bool            // opened by BEGIN (or a MariaDB GTID without FL_STANDALONE): ends with XID/COMMIT
	skip     bool            // written with skip_replication: bgsync's own
	changes  []change.Change
	echoRows uint64
	// echoed: the skipped transaction touched a captured table. Flagged
	// transactions on other tables (another direction's target database
	// on the same server) are not this capture's echoes.
	echoed bool
}

// decoder turns binlog events into transactions. One goroutine uses it.
type decoder struct {
	filter    *filter
	acceptDDL change.Position // schema changes at or below pass

	form   Form   // how positions are made and printed
	file   string // current binlog file
	seq    uint32 // its sequence number
	offset uint32 // end of the event being read
	tables map[uint64]*table

	cur *pending
	// floor: transactions ending at or below it were handed on (or acked)
	// already and are not sent again.
	floor change.Position
	// lastGTID is the last GTID position seen, for the order check.
	lastGTID change.Position
	stats    captureStats
}

type captureStats struct {
	txns, rows, echoTxns, echoRows, empty uint64
	read                                  change.Position
	lastCommit                            time.Time
	captureLag                            time.Duration
}

func newDecoder(f *filter, form Form, floor, acceptDDL change.Position) *decoder {
	d := &decoder{filter: f, form: form, floor: floor, acceptDDL: acceptDDL, tables: map[uint64]*table{}}
	if form.GTID {
		d.lastGTID = floor
	}
	return d
}

// inTxn reports whether a transaction is open.
func (d *decoder) inTxn() bool { return d.cur != nil }

// position is the position of the end of an event in the current file.
func (d *decoder) position(h *replication.EventHeader) change.Position {
	return change.Position(uint64(d.seq)<<32 | uint64(h.LogPos))
}

// groupPosition is the position of the event group h belongs to: its GTID
// with GTID positions, else the end of h.
func (d *decoder) groupPosition(h *replication.EventHeader) change.Position {
	if d.form.GTID && d.cur != nil && d.cur.gtid != 0 {
		return d.cur.gtid
	}
	return d.position(h)
}

// at prints p; a GTID position with the file and offset of the event
// being read ("0-1-100 at mysql-bin.000003:1234").
func (d *decoder) at(p change.Position) string {
	if IsGTID(p) {
		return d.form.Format(p) + " at " + d.file + ":" + fmt.Sprint(d.offset)
	}
	return FormatPosition(p, d.form.Base)
}

// handle processes one event and returns a transaction when one commits.
// It never panics: a panic while decoding becomes an error naming the
// event and its position.
func (d *decoder) handle(ev *replication.BinlogEvent) (txn *change.Txn, err error) {
	defer func() {
		if r := recover(); r != nil {
			de := &DecodeError{Err: fmt.Errorf("panic decoding %s event: %v", ev.Header.EventType, r)}
			de.Position = d.groupPosition(ev.Header)
			de.At = d.at(de.Position)
			if re, ok := ev.Event.(*replication.RowsEvent); ok && re.Table != nil {
				de.Table = change.Table{Schema: string(re.Table.Schema), Name: string(re.Table.Table)}
			}
			txn, err = nil, de
		}
	}()
	d.offset = ev.Header.LogPos
	return d.event(ev.Header, ev.Event)
}

func (d *decoder) event(h *replication.EventHeader, e replication.Event) (*change.Txn, error) {
	switch e := e.(type) {
	case *replication.RotateEvent:
		return nil, d.rotate(string(e.NextLogName))
	case *replication.MariadbGTIDEvent:
		if err := d.begin(e.GTID.SequenceNumber, e.Flags&replication.BINLOG_MARIADB_FL_STANDALONE == 0, h); err != nil {
			return nil, err
		}
		return nil, d.gtid(GTID{Domain: e.GTID.DomainID, ServerID: e.GTID.ServerID, Seq: e.GTID.SequenceNumber})
	case *replication.GTIDEvent: // MySQL: BEGIN follows for DML
		return nil, d.begin(uint64(max(e.GNO, 0)), false, h)
	case *replication.GtidTaggedLogEvent:
		return nil, d.begin(uint64(max(e.GNO, 0)), false, h)
	case *replication.QueryEvent:
		return d.query(h, e)
	case *replication.XIDEvent:
		return d.commit(h)
	case *replication.RowsEvent:
		return nil, d.rows(h, e)
	case *replication.TransactionPayloadEvent: // MySQL binlog compression
		var out *change.Txn
		for _, inner := range e.Events {
			t, err := d.event(inner.Header, inner.Event)
			if err != nil {
				return nil, err
			}
			if t != nil {
				out = t
			}
		}
		return out, nil
	}
	// Table maps are read by the parser; format descriptions, heartbeats,
	// GTID lists, checkpoints and annotations carry nothing to capture.
	return nil, nil
}

func (d *decoder) rotate(name string) error {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	base, seq, err := splitFile(name)
	if err != nil {
		return err
	}
	if d.form.Base == "" {
		d.form.Base = base
	}
	d.file, d.seq = name, seq
	return nil
}

// gtid places the group just opened at g, with GTID positions: g must be
// of the capture's domain and come after every GTID before it.
func (d *decoder) gtid(g GTID) error {
	if !d.form.GTID {
		return nil
	}
	fail := func(err error) error {
		return &DecodeError{At: g.String() + " at " + d.file + ":" + fmt.Sprint(d.offset), Position: d.lastGTID, Err: err}
	}
	if g.Domain != d.form.Domain {
		return fail(fmt.Errorf("GTID %s is in domain %d, but this capture follows domain %d: the source logs another domain (multi-source replication, or a new primary with another gtid_domain_id). Give every server of the topology the same gtid_domain_id, or start the direction afresh (bgsync teardown, then setup, which records file positions when the binary logs hold several domains)", g, g.Domain, d.form.Domain))
	}
	p, err := GTIDPosition(g)
	if err != nil {
		return fail(err)
	}
	if p <= d.lastGTID {
		prev := gtidOf(d.lastGTID, d.form.Domain)
		return fail(fmt.Errorf("GTID %s follows %s: sequence numbers went backwards in domain %d, so bgsync cannot order the transactions (a diverged failover, or writes on two servers of the domain). Set gtid_strict_mode=ON on every server of the topology; to go on, start the direction afresh (bgsync teardown, setup, and a copy)", g, prev, g.Domain))
	}
	d.lastGTID = p
	d.cur.gtid = p
	return nil
}

// begin opens a transaction. One still open with changes in it would be
// lost: that is an error (an XA transaction prepared in one event group and
// committed in another is the known case; XA is not supported).
func (d *decoder) begin(id uint64, explicit bool, h *replication.EventHeader) error {
	if d.cur != nil && len(d.cur.changes) > 0 {
		pos := d.groupPosition(h)
		return &DecodeError{At: d.at(pos), Position: pos, Table: d.cur.changes[0].Table,
			Err: fmt.Errorf("a transaction began before the one with GTID sequence %d ended (XA transactions are not supported)", d.cur.id)}
	}
	d.cur = &pending{id: id, explicit: explicit, skip: h.Flags&skipReplicationFlag != 0}
	return nil
}

// commit ends the open transaction at the end of event h.
func (d *decoder) commit(h *replication.EventHeader) (*change.Txn, error) {
	p := d.cur
	d.cur = nil
	if h.LogPos == 0 {
		return nil, &DecodeError{At: d.file + ":?", Err: errors.New("commit event without a log position")}
	}
	pos := d.position(h)
	if d.form.GTID {
		if p == nil || p.gtid == 0 {
			if p != nil && len(p.changes) > 0 { // rows no GTID places: never dropped silently
				return nil, &DecodeError{At: d.at(pos), Position: pos, Table: p.changes[0].Table,
					Err: errors.New("a transaction with row changes but no GTID event, with GTID positions: it cannot be placed; start the direction afresh with file positions")}
			}
			return nil, nil
		}
		pos = p.gtid
	}
	d.stats.read = pos
	if p == nil {
		return nil, nil
	}
	commitTime := time.Unix(int64(h.Timestamp), 0)
	d.stats.lastCommit = commitTime
	if p.skip {
		if p.echoed || len(p.changes) > 0 {
			d.stats.echoTxns++
			d.stats.echoRows += p.echoRows
		} else {
			d.stats.empty++
		}
		return nil, nil
	}
	if len(p.changes) == 0 {
		d.stats.empty++
		return nil, nil
	}
	if pos <= d.floor {
		return nil, nil
	}
	d.floor = pos
	d.stats.txns++
	d.stats.rows += uint64(len(p.changes))
	d.stats.captureLag = time.Since(commitTime)
	for i := range p.changes { // a statement in its COMMIT's second needs no time of its own
		if at := p.changes[i].Time; at.Equal(commitTime) || !change.TimeWithin(at, commitTime) {
			p.changes[i].Time = time.Time{}
		}
	}
	return &change.Txn{ID: p.id, Position: pos, CommitTime: commitTime, Changes: p.changes}, nil
}

// query handles BEGIN, COMMIT and statements: DDL, and the odd statement
// a ROW binlog still logs (SAVEPOINT, ...).
func (d *decoder) query(h *replication.EventHeader, e *replication.QueryEvent) (*change.Txn, error) {
	q := strings.TrimSpace(string(e.Query))
	switch {
	case strings.EqualFold(q, "BEGIN"):
		if d.cur == nil {
			_ = d.begin(0, true, h) // nothing open: cannot fail
		}
		d.cur.explicit = true
		return nil, nil
	case strings.EqualFold(q, "COMMIT"), strings.EqualFold(q, "ROLLBACK"):
		// A ROLLBACK ends a transaction whose non-transactional changes
		// were logged because they happened anyway: they are real.
		return d.commit(h)
	}
	if d.cur == nil {
		_ = d.begin(0, false, h) // nothing open: cannot fail
	}
	if h.Flags&skipReplicationFlag != 0 {
		d.cur.skip = true
	}
	if err := d.ddl(h, string(e.Schema), q); err != nil {
		return nil, err
	}
	if d.cur.explicit {
		return nil, nil // a statement inside a transaction
	}
	return d.commit(h) // a statement on its own (DDL): its own group
}

// ddl acts on DDL touching captured tables: a TRUNCATE becomes a change;
// any other DDL stops the capture with a SchemaChangeError unless it was
// written with skip_replication or accepted already.
func (d *decoder) ddl(h *replication.EventHeader, db, q string) error {
	st := parseDDL(q, db)
	if st.kind == ddlNone {
		return nil
	}
	if d.cur.skip {
		for _, t := range st.tables {
			d.cur.echoed = d.cur.echoed || d.filter.captured(t)
		}
		return nil
	}
	pos := d.groupPosition(h)
	for _, t := range st.tables {
		switch st.kind {
		case ddlTruncate:
			if d.filter.captured(t) {
				d.cur.changes = append(d.cur.changes, change.Change{
					Op: change.OpTruncate, Table: t, Truncate: []change.Table{t}, Seq: uint32(len(d.cur.changes)),
					Time: time.Unix(int64(h.Timestamp), 0),
				})
			}
			continue
		case ddlDropDB:
			if !d.filter.databaseCaptured(t.Schema) {
				continue
			}
		case ddlChange:
			if !d.filter.captured(t) || t == d.filter.heartbeats {
				continue
			}
		}
		if pos <= d.acceptDDL || pos <= d.floor {
			continue
		}
		return &SchemaChangeError{Table: t, Query: truncateQuery(q), Position: pos, At: d.at(pos), Accept: d.form.Format(pos)}
	}
	return nil
}

func truncateQuery(q string) string {
	const max = 300
	if len(q) > max {
		return q[:max] + "..."
	}
	return q
}

// rows adds the row changes of a rows event on a captured table.
func (d *decoder) rows(h *replication.EventHeader, e *replication.RowsEvent) error {
	if e.Table == nil {
		return nil
	}
	name := change.Table{Schema: string(e.Table.Schema), Name: string(e.Table.Table)}
	if name == d.filter.marker && name.Name != "" { // bgsync's own transaction (MySQL)
		if d.cur == nil {
			_ = d.begin(0, true, h) // nothing open: cannot fail
		}
		if !d.cur.skip { // rows read before the marker are echoes too
			d.cur.echoRows += uint64(len(d.cur.changes))
			d.cur.changes = nil
		}
		d.cur.skip, d.cur.echoed = true, true
		return nil
	}
	if !d.filter.captured(name) {
		return nil
	}
	if d.cur == nil { // rows outside BEGIN/GTID: not expected from a server
		_ = d.begin(0, true, h) // nothing open: cannot fail
	}
	if h.Flags&skipReplicationFlag != 0 {
		d.cur.skip = true
	}
	if d.cur.skip {
		d.cur.echoed = true
		n := uint64(len(e.Rows))
		if e.Type() == replication.EnumRowsEventTypeUpdate {
			n /= 2
		}
		d.cur.echoRows += n
		return nil
	}
	fail := func(image string, err error) error {
		pos := d.groupPosition(h)
		column := ""
		var ce *columnError
		if errors.As(err, &ce) {
			column, err = ce.column, ce.err
		}
		if image != "" {
			err = fmt.Errorf("%s image: %w", image, err)
		}
		return &DecodeError{Table: name, Column: column, At: d.at(pos), Position: pos, Err: err}
	}
	t, err := d.table(e.Table)
	if err != nil {
		return fail("", err)
	}
	skipped := func(i int) []int {
		if i < len(e.SkippedColumns) {
			return e.SkippedColumns[i]
		}
		return nil
	}
	at := time.Unix(int64(h.Timestamp), 0) // the statement's start
	add := func(op change.Op, before, after change.Row) {
		d.cur.changes = append(d.cur.changes, change.Change{
			Op: op, Table: t.name, Columns: t.columns, Before: before, After: after, Seq: uint32(len(d.cur.changes)), Time: at,
		})
	}
	switch e.Type() {
	case replication.EnumRowsEventTypeInsert, replication.EnumRowsEventTypeDelete:
		op := change.OpInsert
		if e.Type() == replication.EnumRowsEventTypeDelete {
			op = change.OpDelete
		}
		for i, vals := range e.Rows {
			r, err := t.row(vals, skipped(i))
			if err != nil {
				return fail("", err)
			}
			if op == change.OpInsert {
				add(op, nil, r)
			} else {
				add(op, r, nil)
			}
		}
	case replication.EnumRowsEventTypeUpdate:
		if len(e.Rows)%2 != 0 {
			return fail("", fmt.Errorf("update event with %d row images (want before/after pairs)", len(e.Rows)))
		}
		for i := 0; i < len(e.Rows); i += 2 {
			before, err := t.row(e.Rows[i], skipped(i))
			if err != nil {
				return fail("before", err)
			}
			after, err := t.row(e.Rows[i+1], skipped(i+1))
			if err != nil {
				return fail("after", err)
			}
			add(change.OpUpdate, before, after)
		}
	default:
		return fail("", fmt.Errorf("rows event of unknown type %s", h.EventType))
	}
	return nil
}

// table returns the decoding of a table map, reusing the last one built for
// the same table id while its shape is unchanged.
func (d *decoder) table(tm *replication.TableMapEvent) (*table, error) {
	if t, ok := d.tables[tm.TableID]; ok && (t.tm == tm || sameShape(t.tm, tm)) {
		t.tm = tm
		return t, nil
	}
	t, err := newTable(tm)
	if err != nil {
		return nil, err
	}
	d.tables[tm.TableID] = t
	return t, nil
}
