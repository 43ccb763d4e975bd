package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/bgsync/bgsync/apply"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// Result, ConflictLabel and DeadLetter are the engine-neutral types of
// package apply.
type (
	Result        = apply.Result
	ConflictLabel = apply.ConflictLabel
	DeadLetter    = apply.DeadLetter
)

// Applier writes source transactions to one MySQL or MariaDB target.
type Applier struct {
	cfg        Config
	db         *sql.DB
	conn       *sql.Conn
	checkpoint change.Position
	tables     map[change.Table]*TargetTable // by source table
	mariadb    bool
	marker     bool // write <schema>.apply_marker in every transaction
	ckptSQL    string
}

// Open connects with one connection, sets the session up (see doc.go),
// creates bgsync's database and tables if needed, and loads the
// checkpoint.
func Open(ctx context.Context, cfg Config) (*Applier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	db, conn, err := openConn(ctx, cfg.DSN)
	if err != nil {
		return nil, err
	}
	a := &Applier{cfg: cfg, db: db, conn: conn, tables: map[change.Table]*TargetTable{}}
	if err := a.init(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *Applier) init(ctx context.Context) error {
	mariadb, err := setupSession(ctx, a.conn)
	if err != nil {
		return err
	}
	a.mariadb = mariadb
	a.marker = a.cfg.MarkerTable || !mariadb
	for _, s := range SchemaSQL(a.cfg.Schema) {
		if _, err := a.conn.ExecContext(ctx, s); err != nil {
			return &TargetError{Op: "create bgsync schema objects", Err: err}
		}
	}
	if err := a.expireTombstones(ctx); err != nil {
		return err
	}
	if err := a.expireColumnWrites(ctx); err != nil {
		return err
	}
	var upos uint64
	err = a.conn.QueryRowContext(ctx, "SELECT source_position FROM "+quoteIdent(a.cfg.Schema)+
		".checkpoints WHERE direction = ?", a.cfg.Direction).Scan(&upos)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return &TargetError{Op: "read checkpoint", Err: err}
	default:
		a.checkpoint = change.Position(upos)
	}
	a.ckptSQL = "INSERT INTO " + quoteIdent(a.cfg.Schema) + `.checkpoints
	(direction, source_position, source_position_text, source_commit_time, kafka_offset, txns_applied, updated_at)
VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE source_position = VALUES(source_position),
	source_position_text = VALUES(source_position_text), source_commit_time = VALUES(source_commit_time),
	kafka_offset = VALUES(kafka_offset), txns_applied = txns_applied + VALUES(txns_applied),
	updated_at = VALUES(updated_at)`
	a.warnRules()
	return nil
}

// warnRules says at start which last-writer-wins rules have no timestamp
// column: MySQL keeps no commit time per row, so under them the incoming
// change always wins a conflict (see doc.go).
func (a *Applier) warnRules() {
	warn := func(table string, r conflict.Rule) {
		if r.Policy == conflict.LastWriterWins && r.TimestampColumn == "" {
			a.cfg.Logger.Warn("last-writer-wins without a timestamp column on a MySQL target: the incoming change wins every conflict",
				"direction", a.cfg.Direction, "table", table)
		}
	}
	warn("(default)", a.cfg.DefaultRule)
	for t := range a.cfg.Rules {
		s, n, _ := strings.Cut(t, ".")
		warn(t, a.cfg.rule(change.Table{Schema: s, Name: n}))
	}
}

// Checkpoint is the highest source position durably applied.
func (a *Applier) Checkpoint() change.Position { return a.checkpoint }

// Close ends the session; an open target transaction is rolled back.
func (a *Applier) Close() {
	if a.conn != nil {
		a.conn.Close()
	}
	a.db.Close()
}

// applyOnce is one attempt of Apply: it leaves nothing open, committing or
// rolling back.
func (a *Applier) applyOnce(ctx context.Context, txns []*change.Txn, kafkaOffset int64) (Result, error) {
	res := Result{Position: a.checkpoint}
	todo := txns[:0:0]
	for _, t := range txns {
		if t.Position <= a.checkpoint || t.Position <= res.Position {
			res.Skipped++
			continue
		}
		todo = append(todo, t)
		res.Position = t.Position
	}
	if len(todo) == 0 {
		return res, nil
	}
	todo, beats, beatOnly := apply.TakeHeartbeats(todo, a.cfg.Heartbeats)
	last := todo[len(todo)-1]
	tx, err := a.conn.BeginTx(ctx, nil)
	if err != nil {
		return res, &TargetError{Op: "begin", Err: err}
	}
	counts := Result{}
	conflicts, err := a.write(ctx, tx, todo, last, kafkaOffset, &counts)
	if err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return res, errors.Join(err, &TargetError{Op: "roll back", Err: rbErr})
		}
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, &TargetError{Op: "commit transaction group ending at " + a.cfg.positionText(last.Position), Err: err}
	}
	res.Inserted, res.Updated, res.Deleted = counts.Inserted, counts.Updated, counts.Deleted
	res.Truncated, res.Missing = counts.Truncated, counts.Missing
	for _, c := range conflicts {
		if res.Conflicts == nil {
			res.Conflicts = map[ConflictLabel]int{}
		}
		res.Conflicts[c.label]++
		if c.label.Resolution == conflict.Unresolved.String() {
			a.cfg.Logger.Warn("conflict left unresolved", "direction", a.cfg.Direction, "kind", c.label.Kind,
				"table", c.table, "key", c.key, "reason", c.reason)
		}
	}
	a.checkpoint = res.Position
	res.Applied = len(todo)
	res.Heartbeats, res.HeartbeatTxns = beats, beatOnly
	res.LastCommitTime = last.CommitTime
	return res, nil
}

// write does the work of one target transaction: the marker, the conflict
// checks, the rows, the conflict log and the checkpoint.
func (a *Applier) write(ctx context.Context, tx *sql.Tx, todo []*change.Txn, last *change.Txn, kafkaOffset int64, counts *Result) ([]conflictRecord, error) {
	if a.marker {
		if err := a.writeMarker(ctx, tx, last.Position); err != nil {
			return nil, err
		}
	}
	eff, conflicts, err := a.resolveGroup(ctx, tx, todo)
	if err != nil {
		return nil, err
	}
	w := &writer{a: a, tx: tx, res: counts}
	for _, t := range eff {
		if err := w.txn(ctx, t); err != nil {
			return nil, err
		}
	}
	if err := a.logConflicts(ctx, tx, conflicts); err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, a.ckptSQL, a.cfg.Direction, uint64(last.Position), a.cfg.positionText(last.Position),
		timeArg(last.CommitTime), kafkaOffset, len(todo))
	if err != nil {
		return nil, &TargetError{Op: fmt.Sprintf("write checkpoint %s", last.Position), Err: err}
	}
	return conflicts, nil
}

// openConn opens a pool of one connection to dsn (with the parameters
// connectorDSN adds) and takes that connection.
func openConn(ctx context.Context, dsn string) (*sql.DB, *sql.Conn, error) {
	d, err := connectorDSN(dsn)
	if err != nil {
		return nil, nil, err
	}
	db, err := sql.Open("mysql", d)
	if err != nil {
		return nil, nil, errors.New("apply: invalid target DSN")
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, &TargetError{Op: "connect to target " + dsnAddr(dsn), Err: err}
	}
	return db, conn, nil
}
