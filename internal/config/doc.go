// Package config loads, checks and describes bgsync's configuration file.
//
// # File format
//
// One YAML document (configs/bgsync.example.yaml documents every key):
//
//	name: bgsync                # prefix of slots, publications, topics
//	state_dir: ./.bgsync
//	blue:  {engine: postgres, dsn: "postgres://...", schema_version: v1}
//	green: {engine: postgres, dsn_file: /run/secrets/green-dsn}
//	directions: blue-to-green   # blue-to-green | green-to-blue | both
//	kafka: {brokers: embedded, topic_prefix: bgsync, embedded: {port: 0}}
//	tables: [{name: public.orders}]
//	apply: {batch_rows: 5000, batch_delay: 10ms}
//	log: {level: info, format: json}
//	http: {listen: "127.0.0.1:9187"}
//
// Decoding is strict: a key the format does not know is an error naming
// the key and its line (`bgsync.yaml:7: unknown key "tabels" (did you mean
// "tables"?)`), and so are malformed YAML, duplicate keys and values of the
// wrong type (`bgsync.yaml:12: tables: expected a list, got a string`).
// All unknown keys are reported together; the decoder stops at the first
// type error.
//
// # Precedence
//
// defaults < file < environment. After the file is decoded, these env vars
// override its keys when set to a non-empty value:
//
//	BGSYNC_BLUE_DSN       blue.dsn (replaces blue.dsn_file too)
//	BGSYNC_GREEN_DSN      green.dsn (replaces green.dsn_file too)
//	BGSYNC_KAFKA_BROKERS  kafka.brokers, comma-separated host:port, or "embedded"
//	BGSYNC_LOG_LEVEL      log.level
//	BGSYNC_HTTP_LISTEN    http.listen
//	BGSYNC_STATE_DIR      state_dir
//	BGSYNC_DIRECTIONS     directions
//
// Then every key still at its zero value gets its default (ApplyDefaults),
// and the result is validated.
//
// # Validation
//
// Validate checks everything and reports all problems at once in one
// *Error, each Problem naming its key path ("tables[2].name") and line, or
// the env var that set the value. It checks engines, that exactly one of
// dsn and dsn_file is set, that the DSN parses (pgconn.ParseConfig; it
// never connects) and the dsn_file is readable, directions, broker
// addresses, table names and duplicates, batch sizes and durations, log
// settings and the listen address. Load and Parse return only valid
// configs; every error they return is an *Error, which the CLI maps to
// exit code 2 with errors.As.
//
// # Secrets
//
// DSN passwords never appear in an error, a log line or printed output:
// Redact masks them in URL and keyword/value DSNs, every message that
// shows a DSN uses it, messages from the YAML and PostgreSQL libraries are
// redacted or reduced to their fixed text, and Config, Database and DSN
// implement String, GoString and slog.LogValuer with passwords masked.
// Only BlueDSN, GreenDSN, DSNFor and Database.ResolveDSN return the real
// DSN, to hand to the database driver.
//
// # Usage
//
//	cfg, err := config.Load(path)
//	if err != nil {
//		var cerr *config.Error
//		if errors.As(err, &cerr) { ... exit 2 ... }
//	}
//	slog.Info("config loaded", "config", cfg) // redacted
//	dsn, err := cfg.BlueDSN()
//	slot := cfg.SlotName(config.Blue)
package config
