package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pgx/v5"
)

// Problem is one unmet prerequisite, with how to fix it.
type Problem struct {
	What string
	Fix  string
}

func (p Problem) String() string { return p.What + " — fix: " + p.Fix }

// PrereqError lists every unmet prerequisite found by Check.
type PrereqError struct {
	Side     string
	Problems []Problem
}

func (e *PrereqError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d prerequisite(s) not met:", e.Side, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - " + p.String())
	}
	return b.String()
}

// SetupOptions names what Setup creates.
type SetupOptions struct {
	Side        string // "blue" or "green", for messages
	Slot        string
	Publication string
	Tables      []change.Table
	// Schema is bgsync's own schema on the source; when set, setup creates
	// the heartbeat table there and publishes it with the tables.
	Schema string
}

// Check verifies the source prerequisites for capture: wal_level, slots and
// senders, the REPLICATION privilege, and a primary key on every table. It
// returns a *PrereqError listing every problem at once.
func Check(ctx context.Context, conn *pgx.Conn, o SetupOptions) error {
	var probs []Problem
	var walLevel string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&walLevel); err != nil {
		return fmt.Errorf("%s: read wal_level: %w", o.Side, err)
	}
	if walLevel != "logical" {
		probs = append(probs, Problem{
			What: fmt.Sprintf("wal_level is %q; logical replication needs \"logical\"", walLevel),
			Fix:  "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL",
		})
	}
	var maxSlots, usedSlots int
	if err := conn.QueryRow(ctx, `SELECT current_setting('max_replication_slots')::int,
		(SELECT count(*) FROM pg_replication_slots WHERE slot_name <> $1)`, o.Slot).Scan(&maxSlots, &usedSlots); err != nil {
		return fmt.Errorf("%s: read replication slots: %w", o.Side, err)
	}
	if usedSlots >= maxSlots {
		probs = append(probs, Problem{
			What: fmt.Sprintf("all %d replication slots are in use", maxSlots),
			Fix:  "raise max_replication_slots (ALTER SYSTEM SET max_replication_slots = ...; restart) or drop an unused slot",
		})
	}
	var canRepl bool
	if err := conn.QueryRow(ctx, `SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&canRepl); err != nil {
		return fmt.Errorf("%s: read role attributes: %w", o.Side, err)
	}
	if !canRepl {
		probs = append(probs, Problem{
			What: "the connecting role has neither REPLICATION nor SUPERUSER",
			Fix:  "ALTER ROLE <user> REPLICATION",
		})
	}
	tp, err := checkTables(ctx, conn, o.Tables)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Side, err)
	}
	probs = append(probs, tp...)
	if len(probs) > 0 {
		return &PrereqError{Side: o.Side, Problems: probs}
	}
	return nil
}

func checkTables(ctx context.Context, conn *pgx.Conn, tables []change.Table) ([]Problem, error) {
	var probs []Problem
	for _, t := range tables {
		var exists, hasPK bool
		err := conn.QueryRow(ctx, `SELECT c.oid IS NOT NULL,
			EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
			FROM (SELECT to_regclass(quote_ident($1) || '.' || quote_ident($2))::oid AS oid) c`, t.Schema, t.Name).Scan(&exists, &hasPK)
		if err != nil {
			return nil, fmt.Errorf("inspect table %s: %w", t, err)
		}
		switch {
		case !exists:
			probs = append(probs, Problem{What: fmt.Sprintf("table %s does not exist", t), Fix: "create it, or remove it from tables: in the config"})
		case !hasPK:
			probs = append(probs, Problem{
				What: fmt.Sprintf("table %s has no primary key; rows cannot be matched on the other side", t),
				Fix:  fmt.Sprintf("ALTER TABLE %s ADD PRIMARY KEY (...)", quoteTable(t)),
			})
		}
	}
	return probs, nil
}

// SetupSQL returns the statements Setup runs, for --dry-run.
func SetupSQL(ctx context.Context, conn *pgx.Conn, o SetupOptions) ([]string, error) {
	var sqls []string
	var pubExists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)`, o.Publication).Scan(&pubExists); err != nil {
		return nil, fmt.Errorf("%s: read publications: %w", o.Side, err)
	}
	list := make([]string, len(o.Tables), len(o.Tables)+1)
	for i, t := range o.Tables {
		list[i] = quoteTable(t)
	}
	if o.Schema != "" {
		sqls = append(sqls, HeartbeatSQL(o.Schema)...)
		list = append(list, quoteTable(HeartbeatTable(o.Schema)))
	}
	if pubExists {
		sqls = append(sqls, fmt.Sprintf("ALTER PUBLICATION %s SET TABLE %s", pgx.Identifier{o.Publication}.Sanitize(), strings.Join(list, ", ")))
	} else {
		sqls = append(sqls, fmt.Sprintf("CREATE PUBLICATION %s FOR TABLE %s", pgx.Identifier{o.Publication}.Sanitize(), strings.Join(list, ", ")))
	}
	var slotExists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`, o.Slot).Scan(&slotExists); err != nil {
		return nil, fmt.Errorf("%s: read replication slots: %w", o.Side, err)
	}
	if !slotExists {
		sqls = append(sqls, fmt.Sprintf("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", quoteLiteral(o.Slot)))
	}
	return sqls, nil
}

// Setup creates (or updates) the publication and creates the slot if it is
// missing. Run Check first.
func Setup(ctx context.Context, conn *pgx.Conn, o SetupOptions) error {
	sqls, err := SetupSQL(ctx, conn, o)
	if err != nil {
		return err
	}
	for _, s := range sqls {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %s: %w", o.Side, s, err)
		}
	}
	return nil
}

// Teardown drops the slot and the publication if they exist. It never
// touches user tables. An active slot (a capture still running) is an error.
func Teardown(ctx context.Context, conn *pgx.Conn, o SetupOptions) error {
	var errs []error
	var active *bool
	err := conn.QueryRow(ctx, `SELECT active FROM pg_replication_slots WHERE slot_name = $1`, o.Slot).Scan(&active)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		errs = append(errs, fmt.Errorf("%s: read slot %s: %w", o.Side, o.Slot, err))
	case active != nil && *active:
		errs = append(errs, fmt.Errorf("%s: slot %s is in use by a running capture; stop bgsync run first", o.Side, o.Slot))
	default:
		if _, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, o.Slot); err != nil {
			errs = append(errs, fmt.Errorf("%s: drop slot %s: %w", o.Side, o.Slot, err))
		}
	}
	if _, err := conn.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{o.Publication}.Sanitize()); err != nil {
		errs = append(errs, fmt.Errorf("%s: drop publication %s: %w", o.Side, o.Publication, err))
	}
	return errors.Join(errs...)
}

func quoteTable(t change.Table) string { return pgx.Identifier{t.Schema, t.Name}.Sanitize() }

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Advance moves a slot that no capture is reading forward to pos (used
// after a drain, so the next start re-sends nothing). A slot already at or
// past pos is left alone.
func Advance(ctx context.Context, dsn, slot string, pos change.Position) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return &SourceError{Op: "connect to advance slot " + slot, Err: err}
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SELECT pg_replication_slot_advance(slot_name, $2::pg_lsn)
		FROM pg_replication_slots WHERE slot_name = $1 AND confirmed_flush_lsn < $2::pg_lsn`, slot, pos.String()); err != nil {
		return fmt.Errorf("advance slot %s to %s: %w", slot, pos, err)
	}
	return nil
}
