package config

import "log/slog"

// Config is the whole bgsync configuration file. Parse and Load return it
// with defaults applied and validated; a Config built in Go may leave any
// field with a default at its zero value.
//
// Config is safe to print and to log: String, GoString and LogValue redact
// the passwords in DSNs.
type Config struct {
	// Name prefixes everything bgsync creates: replication slots,
	// publications, replication origins, its own schema and (by default)
	// Kafka topics. Lower-case letters, digits and '_', starting with a
	// letter, at most MaxNameLen bytes. Default "bgsync".
	Name string `yaml:"name"`
	// StateDir holds local state (the embedded broker's data). A relative
	// path is relative to the working directory. Default "./.bgsync".
	StateDir string `yaml:"state_dir"`

	Blue  Database `yaml:"blue"`
	Green Database `yaml:"green"`

	// Directions says which way changes flow. Required.
	Directions Directions `yaml:"directions"`

	Kafka Kafka `yaml:"kafka"`

	// TableList is the `tables` list: the tables kept in sync. At least
	// one. Use Tables for their normalised names.
	TableList []Table `yaml:"tables"`

	Apply    Apply    `yaml:"apply"`
	Snapshot Snapshot `yaml:"snapshot"`
	Log      Log      `yaml:"log"`
	HTTP     HTTP     `yaml:"http"`
	Gates    Gates    `yaml:"gates"`
	Lag      Lag      `yaml:"lag"`

	// meta records where values came from (file lines, env vars) so
	// Validate can point at them. Nil for a Config built in Go.
	meta *meta
}

// Database is the `blue` or `green` section: how to reach one side.
type Database struct {
	// Engine is the database engine. Required: postgres, mariadb or mysql.
	Engine Engine `yaml:"engine"`
	// DSN is the connection string (URL or keyword/value form). Exactly
	// one of DSN and DSNFile must be set.
	DSN DSN `yaml:"dsn"`
	// DSNFile is a file holding the DSN (a mounted secret); surrounding
	// white space is trimmed. It is read when the DSN is resolved.
	DSNFile string `yaml:"dsn_file"`
	// SchemaVersion is an optional label for the schema version this side
	// runs (e.g. "v1"), shown in status output and envelopes.
	SchemaVersion string `yaml:"schema_version"`
}

// Engine names a database engine.
type Engine string

const (
	EnginePostgres Engine = "postgres"
	// EngineMariaDB: captured from the binlog, loop prevention by the
	// skip_replication session flag.
	EngineMariaDB Engine = "mariadb"
	// EngineMySQL: captured from the binlog, loop prevention by a marker
	// row in each applied transaction (MySQL has no skip_replication).
	EngineMySQL Engine = "mysql"
)

// Binlog reports whether the engine is captured from a MySQL-family
// binlog (DSNs in the go-sql-driver form).
func (e Engine) Binlog() bool { return e == EngineMariaDB || e == EngineMySQL }

// Directions says which way changes flow between blue and green.
type Directions string

const (
	BlueToGreen Directions = "blue-to-green"
	GreenToBlue Directions = "green-to-blue"
	Both        Directions = "both"
)

// From reports whether changes captured on side flow to the other side.
func (d Directions) From(side Side) bool {
	switch side {
	case Blue:
		return d == BlueToGreen || d == Both
	case Green:
		return d == GreenToBlue || d == Both
	}
	return false
}

// Kafka is the `kafka` section.
type Kafka struct {
	// Brokers is either ["embedded"] (the default: bgsync runs a Kafka
	// protocol broker in-process, data under StateDir) or the bootstrap
	// brokers of a cluster as host:port.
	Brokers Brokers `yaml:"brokers"`
	// TopicPrefix prefixes the topic names (<prefix>.blue, <prefix>.green).
	// Default: Config.Name.
	TopicPrefix string `yaml:"topic_prefix"`
	// Embedded configures the embedded broker; ignored with external
	// brokers.
	Embedded EmbeddedBroker `yaml:"embedded"`
}

// EmbeddedBroker is the `kafka.embedded` section.
type EmbeddedBroker struct {
	// Port the embedded broker listens on (loopback); 0 picks a free port.
	Port int `yaml:"port"`
}

// Table is one entry of the `tables` list.
type Table struct {
	// Name is "schema.table" or a bare "table" (schema public): the
	// table's name on blue, and on green unless GreenName is set. Unquoted
	// parts fold to lower case as in SQL; double-quote a part to keep its
	// case or special characters: `"Sales"."Order Lines"`.
	Name string `yaml:"name"`
	// GreenName is the table's name on green when green's schema version
	// renamed it. Default: Name.
	GreenName string `yaml:"green_name"`
	// Conflict says how write-write conflicts on this table are decided.
	Conflict Conflict `yaml:"conflict"`
	// Transforms maps rows between the two schema versions, per direction.
	// A direction without one copies columns by name.
	Transforms Transforms `yaml:"transforms"`
	// OnError says what a row that a transform cannot map does: "pause"
	// (default: the direction stops at that row, naming it) or
	// "dead-letter" (the row is recorded in bgsync's dead_letters table on
	// the target and the <prefix>.dead_letters topic, and the stream goes
	// on; the gates fail until it is handled).
	OnError string `yaml:"on_error"`
}

// On-error actions of a table.
const (
	OnErrorPause      = "pause"
	OnErrorDeadLetter = "dead-letter"
)

// Transforms is a table's `transforms` section.
type Transforms struct {
	BlueToGreen *Transform `yaml:"blue_to_green"`
	GreenToBlue *Transform `yaml:"green_to_blue"`
}

// Transform is one direction's mapping of a table: how a row of the
// source's schema version becomes a row of the target's. Columns not
// renamed, computed or dropped are copied by name (converted between
// compatible types: integer widths, integer cents and numeric, text and
// json/jsonb, timestamp and timestamptz in Zone).
type Transform struct {
	// Rename copies a source column into a target column of another name:
	// {source column: target column}.
	Rename map[string]string `yaml:"rename"`
	// Set computes target columns with expressions over the source row
	// (expr-lang syntax; source columns by name): {target column: expr}.
	Set map[string]string `yaml:"set"`
	// Drop lists source columns the target does not have. On an update the
	// target keeps such a column's current value, on an insert it gets its
	// default.
	Drop []string `yaml:"drop"`
	// Zone is the IANA time zone a timestamp without time zone is in when
	// it is converted to or from one with a zone. Default UTC.
	Zone string `yaml:"zone"`
}

// Conflict is a table's `conflict` section.
type Conflict struct {
	// Policy is last-writer-wins (default), blue-wins, green-wins,
	// column-merge or manual.
	Policy string `yaml:"policy"`
	// TimestampColumn, with last-writer-wins, orders two writes by this
	// column's value instead of the source times, and a write against a
	// delete by its value against the delete's time.
	TimestampColumn string `yaml:"timestamp_column"`
}

// Apply is the `apply` section: how changes are written to the target.
type Apply struct {
	// BatchRows caps the rows in one target transaction (consecutive
	// source transactions are grouped up to this). Default 5000.
	BatchRows int `yaml:"batch_rows"`
	// BatchDelay caps how long a batch waits to fill. Default 10ms.
	BatchDelay Duration `yaml:"batch_delay"`
}

// Snapshot is the `snapshot` section: the initial copy of a source's rows
// into an empty (or declared) target, before streaming.
type Snapshot struct {
	// InitialLoad is "off" (default: run streams from the slot setup made)
	// or "auto": run first copies From's tables when the direction from
	// From has no checkpoint yet, then streams.
	InitialLoad string `yaml:"initial_load"`
	// From is the side whose rows are copied (default blue).
	From Side `yaml:"from"`
	// TargetNotEmpty says what a copy does with target tables that hold
	// rows: fail (default), truncate or merge.
	TargetNotEmpty string `yaml:"target_not_empty"`
	// Workers copy key ranges in parallel (default 4, 1-64).
	Workers int `yaml:"workers"`
	// ChunkRows is the size of a key range (default 100000).
	ChunkRows int `yaml:"chunk_rows"`
	// MaxRowsPerSecond caps the copy's rate (0, the default: no cap).
	MaxRowsPerSecond int `yaml:"max_rows_per_second"`
}

// Initial-load settings.
const (
	InitialLoadOff  = "off"
	InitialLoadAuto = "auto"
)

// Log is the `log` section.
type Log struct {
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Format is json (default) or text.
	Format string `yaml:"format"`
}

// SlogLevel returns Level as a slog.Level (info for anything unknown).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// HTTP is the `http` section.
type HTTP struct {
	// Listen is the address of the metrics, health and gate endpoints.
	// Default 127.0.0.1:9187 (loopback only).
	Listen string `yaml:"listen"`
}

// Lag is the `lag` section: how lag is measured.
type Lag struct {
	// HeartbeatInterval is how often bgsync run writes a heartbeat row
	// into each source's <name>.heartbeats table; lag is timed from the
	// write to the target's commit of it. Default 1s; 100ms to 1m.
	HeartbeatInterval Duration `yaml:"heartbeat_interval"`
}

// Gates is the `gates` section: the limits of the cutover and rollback
// gates (see package gate).
type Gates struct {
	// MaxLag is the most lag the direction carrying the writes may have.
	// Default 5s.
	MaxLag Duration `yaml:"max_lag"`
	// VerifyMaxAge is how old the last verify run may be. Default 1h.
	VerifyMaxAge Duration `yaml:"verify_max_age"`
	// ErrorWindow: a direction that failed within it fails the gates.
	// Default 5m.
	ErrorWindow Duration `yaml:"error_window"`
}
