package mysql

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/bgsync/bgsync/change"
	driver "github.com/go-sql-driver/mysql"
)

// Config configures one capture. Zero values get the defaults noted.
type Config struct {
	// DSN is a go-sql-driver DSN (user:pass@tcp(host:port)/); its host,
	// port, user, password and TLS settings are used for the binlog
	// connection and for reading the server's binlog position.
	DSN string
	// ServerID is this reader's replica server_id: unique among the
	// source's replicas and different from the source's own (required).
	ServerID uint32
	// Flavor is "mariadb" (default) or "mysql".
	Flavor string
	// Tables are the tables captured (Schema = database name). Empty: every
	// table except those in the Ignore databases and the system databases
	// (mysql, information_schema, performance_schema, sys).
	Tables map[change.Table]bool
	// Ignore lists databases never captured when Tables is empty (e.g.
	// bgsync's own database).
	Ignore []string
	// Heartbeats is bgsync's heartbeat table on the source; it is always
	// captured, whatever Tables and Ignore say. Zero: none.
	Heartbeats change.Table
	// Marker is the table apply/mysql writes in every transaction it
	// applies on a MySQL target (MySQL has no skip_replication flag): a
	// transaction with a row change on it is bgsync's own write and is
	// dropped as an echo. Zero: none (MariaDB needs none).
	Marker change.Table
	// GTID makes positions MariaDB GTIDs of domain GTIDDomain
	// (GTIDPosition) instead of binlog file offsets (PositionOf), and Run
	// resumes by GTID: after a failover, pointed at the new primary (a
	// replica that logged the old primary's transactions with
	// log_slave_updates), it goes on where it was. MariaDB only; Start and
	// AcceptSchemaChangeThrough must be of the same form.
	GTID       bool
	GTIDDomain uint32
	// Start is where Run starts when Ack was never given a non-zero
	// position: the end of the last transaction already held by the
	// target. Zero: the server's binlog position at the first Run.
	Start change.Position
	// AcceptSchemaChangeThrough lets Run pass schema changes at or below
	// this position (ones the operator has already dealt with after a
	// SchemaChangeError) instead of stopping on them again. Zero: none.
	AcceptSchemaChangeThrough change.Position
	Logger                    *slog.Logger
}

// Flavors.
const (
	FlavorMariaDB = "mariadb"
	FlavorMySQL   = "mysql"
)

// Validate reports a missing or unusable setting. It does no I/O.
func (c *Config) Validate() error {
	var errs []error
	if c.DSN == "" {
		errs = append(errs, errors.New("capture: DSN is empty"))
	} else if _, err := parseDSN(c.DSN); err != nil {
		errs = append(errs, err)
	}
	if c.ServerID == 0 {
		errs = append(errs, errors.New("capture: server_id is 0: give this reader a unique replica server_id"))
	}
	switch c.Flavor {
	case "", FlavorMariaDB, FlavorMySQL:
	default:
		errs = append(errs, fmt.Errorf("capture: flavor %q: want %q or %q", c.Flavor, FlavorMariaDB, FlavorMySQL))
	}
	if c.GTID && c.Flavor == FlavorMySQL {
		errs = append(errs, errors.New("capture: GTID positions are MariaDB's: a MySQL source uses file positions"))
	}
	for _, p := range []struct {
		name string
		pos  change.Position
	}{{"start position", c.Start}, {"accepted schema change position", c.AcceptSchemaChangeThrough}} {
		if p.pos != 0 && IsGTID(p.pos) != c.GTID {
			errs = append(errs, fmt.Errorf("capture: the %s is a %s, but this capture's positions are %s", p.name, formName(IsGTID(p.pos)), formName(c.GTID)+"s"))
		}
	}
	if (c.Heartbeats.Schema == "") != (c.Heartbeats.Name == "") {
		errs = append(errs, fmt.Errorf("capture: heartbeat table %q needs both a database and a name", c.Heartbeats))
	}
	return errors.Join(errs...)
}

func (c *Config) withDefaults() Config {
	out := *c
	if out.Flavor == "" {
		out.Flavor = FlavorMariaDB
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

// parseDSN parses a go-sql-driver DSN. Its errors never quote the DSN, so
// they cannot leak the password.
func parseDSN(dsn string) (*driver.Config, error) {
	cfg, err := driver.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("capture: DSN is not a go-sql-driver DSN (user:pass@tcp(host:port)/): %w", err)
	}
	return cfg, nil
}

// systemDatabases are never captured unless listed in Config.Tables.
var systemDatabases = map[string]bool{
	"mysql": true, "information_schema": true, "performance_schema": true, "sys": true,
}

// filter decides which tables are captured.
type filter struct {
	tables     map[change.Table]bool
	ignore     map[string]bool
	heartbeats change.Table
	marker     change.Table
}

func newFilter(c *Config) *filter {
	f := &filter{tables: map[change.Table]bool{}, ignore: map[string]bool{}, heartbeats: c.Heartbeats, marker: c.Marker}
	for t, ok := range c.Tables {
		if ok {
			f.tables[t] = true
		}
	}
	for _, db := range c.Ignore {
		f.ignore[db] = true
	}
	return f
}

func (f *filter) captured(t change.Table) bool {
	if t == f.heartbeats && t.Name != "" {
		return true
	}
	if len(f.tables) > 0 {
		return f.tables[t]
	}
	return !systemDatabases[t.Schema] && !f.ignore[t.Schema]
}

// databaseCaptured reports whether any captured table may live in db.
func (f *filter) databaseCaptured(db string) bool {
	if f.heartbeats.Schema == db && f.heartbeats.Name != "" {
		return true
	}
	if len(f.tables) > 0 {
		for t := range f.tables {
			if t.Schema == db {
				return true
			}
		}
		return false
	}
	return !systemDatabases[db] && !f.ignore[db]
}

func formName(gtid bool) string {
	if gtid {
		return "GTID"
	}
	return "binlog file position"
}
