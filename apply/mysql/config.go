package mysql

import (
	"errors"
	"log/slog"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
)

// Config configures one Applier.
type Config struct {
	// DSN of the target, in go-sql-driver form:
	// user:pass@tcp(host:port)/. Open adds the parameters it relies on
	// (see doc.go); any database name in it is not used.
	DSN string
	// Schema is bgsync's own database on the target (checkpoints,
	// conflicts, dead letters, the marker), created if missing.
	Schema string
	// Direction names the stream being applied, e.g. "blue-to-green"; it is
	// the checkpoint's key.
	Direction string
	// FormatPosition prints a source position in the text the
	// checkpoint, conflict and dead-letter rows and the error messages
	// carry (source_position_text): a binlog source's file:offset, say.
	// Nil: the PostgreSQL LSN form.
	FormatPosition func(change.Position) string
	// Tables maps source tables ("schema.table") to target tables
	// ("db.table"; a bare name keeps the source's schema as the database).
	// A source table not in the map goes to the table of the same name.
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
	// MarkerTable makes every target transaction write its row in
	// <Schema>.apply_marker, so a capture on this database can recognise
	// bgsync's own transactions (EchoByMarker). It is always on against
	// MySQL, which has no skip_replication; on MariaDB it is optional.
	MarkerTable bool
	Logger      *slog.Logger
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
	if out.DefaultRule.Policy == 0 {
		out.DefaultRule.Policy = conflict.LastWriterWins
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

// rule returns the conflict rule of a source table.
func (c *Config) rule(src change.Table) conflict.Rule {
	if r, ok := c.Rules[src.String()]; ok {
		if r.Policy == 0 {
			r.Policy = c.DefaultRule.Policy
		}
		return r
	}
	return c.DefaultRule
}

// positionText prints p as FormatPosition says.
func (c *Config) positionText(p change.Position) string {
	if c.FormatPosition != nil {
		return c.FormatPosition(p)
	}
	return p.String()
}
