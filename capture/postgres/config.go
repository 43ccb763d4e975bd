package postgres

import (
	"errors"
	"log/slog"
	"time"
)

// Config configures one capture. Zero values get the defaults noted.
type Config struct {
	// DSN is an ordinary connection string; Run adds replication=database.
	DSN string
	// Slot and Publication name the logical replication slot and the
	// publication it reads.
	Slot        string
	Publication string
	// SkipOriginPrefix drops transactions written by a replication origin
	// whose name starts with it (bgsync's own applier sessions).
	SkipOriginPrefix string
	// StatusInterval is how often the acknowledged position is reported
	// (default 1s); the server's wal_sender_timeout must be longer.
	StatusInterval time.Duration
	// WorkMem sets logical_decoding_work_mem for the walsender (e.g. "64MB");
	// larger transactions are streamed before they commit.
	WorkMem string
	Logger  *slog.Logger
}

// Validate reports a missing or unusable setting.
func (c *Config) Validate() error {
	var errs []error
	if c.DSN == "" {
		errs = append(errs, errors.New("capture: DSN is empty"))
	}
	if c.Slot == "" {
		errs = append(errs, errors.New("capture: slot name is empty"))
	}
	if c.Publication == "" {
		errs = append(errs, errors.New("capture: publication name is empty"))
	}
	return errors.Join(errs...)
}

func (c *Config) withDefaults() Config {
	out := *c
	if out.StatusInterval <= 0 {
		out.StatusInterval = time.Second
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}
