package postgres

import (
	"errors"
	"log/slog"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// Config configures one Applier.
type Config struct {
	// DSN of the target database.
	DSN string
	// Schema is bgsync's own schema on the target (checkpoints live there).
	Schema string
	// Direction names the stream being applied, e.g. "blue-to-green"; it is
	// the checkpoint's key.
	Direction string
	// FormatPosition prints a source position in the text the
	// checkpoint, conflict and dead-letter rows and the error messages
	// carry (source_position_text): a binlog source's file:offset, say.
	// Nil: the PostgreSQL LSN form.
	FormatPosition func(change.Position) string
	// Origin, when set, tags the session with this replication origin for
	// loop prevention. It is created if missing.
	Origin string
	// Tables maps source tables to target tables; a source table not in the
	// map is applied to the table of the same name.
	Tables map[string]string
	// Heartbeats is the source's heartbeat table: its changes are timed
	// (Result.Heartbeats), never written to the target. Empty: none.
	Heartbeats change.Table
	// From is the side the source database is on; conflict policies that
	// favour a side, and ties, need it.
	From conflict.Side
	// Rules decides conflicts per source table ("schema.table"); tables not
	// in the map use DefaultRule (default: last-writer-wins).
	Rules       map[string]conflict.Rule
	DefaultRule conflict.Rule
	// PipelineStatements caps the statements sent in one round trip
	// (default 2000).
	PipelineStatements int
	Logger             *slog.Logger
}

// Validate reports a missing setting.
func (c *Config) Validate() error {
	var errs []error
	if c.DSN == "" {
		errs = append(errs, errors.New("apply: DSN is empty"))
	}
	if c.Schema == "" {
		errs = append(errs, errors.New("apply: schema is empty"))
	}
	if c.Direction == "" {
		errs = append(errs, errors.New("apply: direction is empty"))
	}
	if c.From != conflict.Blue && c.From != conflict.Green {
		errs = append(errs, errors.New("apply: source side (From) is not set"))
	}
	return errors.Join(errs...)
}

func (c *Config) withDefaults() Config {
	out := *c
	if out.PipelineStatements <= 0 {
		out.PipelineStatements = 2000
	}
	if out.DefaultRule.Policy == 0 {
		out.DefaultRule.Policy = conflict.LastWriterWins
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

// positionText prints p as FormatPosition says.
func (c *Config) positionText(p change.Position) string {
	if c.FormatPosition != nil {
		return c.FormatPosition(p)
	}
	return p.String()
}
