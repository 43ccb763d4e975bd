package postgres

import (
	"context"
	"errors"
	"fmt"
	"github.com/bgsync/bgsync/apply"
	"strconv"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Applier writes source transactions to one PostgreSQL target.
type Applier struct {
	cfg        Config
	conn       *pgx.Conn
	checkpoint change.Position
	// catchUp: transactions at or below it may be in an initial copy's
	// rows already; they are applied idempotently (ruleFor).
	catchUp  change.Position
	tables   map[change.Table]*targetTable // by source table
	prepared map[string]string             // SQL → prepared statement name
	stages   map[string]string             // table and columns → staging table name
	staged   map[string]bool               // staging tables created in this session
	ckptSQL  string
	types    *pgtext.Registry // the target's user-defined types
	commitTS bool             // track_commit_timestamp is on
	originID string           // roident of cfg.Origin, "" without one
	fetchSQL map[*targetTable]*fetchQueries
}

// Result, ConflictLabel and DeadLetter are the engine-neutral types of
// package apply.
type (
	Result        = apply.Result
	ConflictLabel = apply.ConflictLabel
	DeadLetter    = apply.DeadLetter
)

// Open connects, creates bgsync's schema objects if needed, tags the
// session with the replication origin, and loads the checkpoint.
func Open(ctx context.Context, cfg Config) (*Applier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	pc, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, errors.New("apply: invalid target connection string")
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		return nil, &TargetError{Op: fmt.Sprintf("connect to target %s:%d", pc.Host, pc.Port), Err: err}
	}
	a := &Applier{
		cfg:      cfg,
		conn:     conn,
		tables:   map[change.Table]*targetTable{},
		prepared: map[string]string{},
		stages:   map[string]string{},
		staged:   map[string]bool{},
		fetchSQL: map[*targetTable]*fetchQueries{},
	}
	if err := a.init(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *Applier) init(ctx context.Context) error {
	// Tombstone keys are JSON built in UTC (see SchemaSQL).
	if _, err := a.conn.Exec(ctx, `SET TimeZone = 'UTC'`); err != nil {
		return &TargetError{Op: "set time zone", Err: err}
	}
	for _, s := range SchemaSQL(a.cfg.Schema) {
		if _, err := a.conn.Exec(ctx, s); err != nil {
			return &TargetError{Op: "create bgsync schema objects", Err: err}
		}
	}
	if a.cfg.Origin != "" {
		id, err := UseOrigin(ctx, a.conn, a.cfg.Origin)
		if err != nil {
			return &TargetError{Op: "replication origin " + a.cfg.Origin, Err: err}
		}
		a.originID = id
	}
	var setting string
	if err := a.conn.QueryRow(ctx, `SHOW track_commit_timestamp`).Scan(&setting); err != nil {
		return &TargetError{Op: "read track_commit_timestamp", Err: err}
	}
	a.commitTS = setting == "on"
	if !a.commitTS {
		a.cfg.Logger.Warn("track_commit_timestamp is off on the target: conflicts are decided without the target rows' commit times",
			"direction", a.cfg.Direction)
	}
	a.types = &pgtext.Registry{}
	typeRows := a.conn.PgConn().ExecParams(ctx, pgtext.TypesQuery, nil, nil, nil, nil).Read()
	if typeRows.Err != nil {
		return &TargetError{Op: "read pg_type", Err: typeRows.Err}
	}
	for _, row := range typeRows.Rows {
		if err := a.types.RegisterPgType(row); err != nil {
			return err
		}
	}
	// Tombstones matter only while a change that raced the delete can
	// still arrive; a week is far beyond any lag bgsync runs with.
	if _, err := a.conn.Exec(ctx, `DELETE FROM `+quoteIdent(a.cfg.Schema)+
		`.tombstones WHERE recorded_at < now() - interval '7 days'`); err != nil {
		return &TargetError{Op: "expire tombstones", Err: err}
	}
	var pos *string
	err := a.conn.QueryRow(ctx, `SELECT source_position::text FROM `+quoteIdent(a.cfg.Schema)+
		`.checkpoints WHERE direction = $1`, a.cfg.Direction).Scan(&pos)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return &TargetError{Op: "read checkpoint", Err: err}
	}
	if pos != nil {
		v, err := strconv.ParseUint(*pos, 10, 64)
		if err != nil {
			return fmt.Errorf("checkpoint of %s: bad position %q", a.cfg.Direction, *pos)
		}
		a.checkpoint = change.Position(v)
	}
	a.ckptSQL = `INSERT INTO ` + quoteIdent(a.cfg.Schema) + `.checkpoints AS c
	(direction, source_position, source_position_text, source_commit_time, kafka_offset, txns_applied, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, now())
ON CONFLICT (direction) DO UPDATE SET source_position = EXCLUDED.source_position,
	source_position_text = EXCLUDED.source_position_text, source_commit_time = EXCLUDED.source_commit_time,
	kafka_offset = EXCLUDED.kafka_offset, txns_applied = c.txns_applied + EXCLUDED.txns_applied,
	updated_at = now()`
	return nil
}

// UseOrigin creates replication origin name if it does not exist and tags
// conn's session with it, so a capture on this database drops what the
// session writes. It returns the origin's id (roident) as text. One origin
// can be in use by one session at a time.
func UseOrigin(ctx context.Context, conn *pgx.Conn, name string) (string, error) {
	var id string
	err := conn.QueryRow(ctx, `WITH made AS (
	SELECT pg_replication_origin_create($1) AS id
	WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = $1))
SELECT id::text FROM made UNION ALL SELECT roident::text FROM pg_replication_origin WHERE roname = $1`, name).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_replication_origin_session_setup($1)`, name); err != nil {
		return "", fmt.Errorf("use (is another session using it?): %w", err)
	}
	return id, nil
}

// Checkpoint is the highest source position durably applied.
func (a *Applier) Checkpoint() change.Position { return a.checkpoint }

// Close ends the session; an open target transaction is rolled back.
func (a *Applier) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.conn.Close(ctx)
}

// applyOnce is one attempt of Apply.
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
	if err := a.begin(ctx, last); err != nil {
		return res, err
	}
	eff, conflicts, err := a.resolveGroup(ctx, todo)
	if err != nil {
		return res, err
	}
	p := &plan{}
	for _, t := range eff {
		if err := a.planTxn(ctx, p, t); err != nil {
			return res, err
		}
	}
	if err := a.prepareAll(ctx, p); err != nil {
		return res, err
	}
	if err := a.execute(ctx, p, conflicts, last, len(todo), kafkaOffset, &res); err != nil {
		return res, err
	}
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

// TargetError is a failure talking to the target. Retryable: the pipeline
// reopens the applier and replays from the checkpoint.
type TargetError struct {
	Op  string
	Err error
}

func (e *TargetError) Error() string   { return e.Op + ": " + e.Err.Error() }
func (e *TargetError) Unwrap() error   { return e.Err }
func (e *TargetError) Retryable() bool { return true }

// ApplyError is a statement the target rejected, with what it was applying.
type ApplyError struct {
	Table    change.Table
	Op       change.Op
	Key      string
	Position change.Position
	// PositionText is Position as the source prints it (Config.FormatPosition).
	PositionText string
	Err          error
}

func (e *ApplyError) Error() string {
	pos := e.PositionText
	if pos == "" {
		pos = e.Position.String()
	}
	return fmt.Sprintf("apply %s to %s key %s (source position %s): %v", e.Op, e.Table, e.Key, pos, e.Err)
}
func (e *ApplyError) Unwrap() error { return e.Err }

// Retryable: a constraint or data error will fail again the same way, but
// the supervisor still retries with backoff so a fixed target resumes.
func (e *ApplyError) Retryable() bool {
	var pe *pgconn.PgError
	if errors.As(e.Err, &pe) {
		if pe.Code == "23505" {
			// unique_violation: the application inserted a key between the
			// read of the current rows and the write; the retry sees it.
			return true
		}
		switch pe.Code[:2] {
		case "22", "23", "42":
			return false
		}
	}
	return true
}
