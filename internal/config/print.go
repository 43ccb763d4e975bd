package config

import (
	"log/slog"
	"strings"

	"github.com/goccy/go-yaml"
)

// redactedCopy returns c with DSN passwords masked and no metadata.
func (c Config) redactedCopy() Config {
	r := c
	r.meta = nil
	r.Blue, r.Green = r.Blue.redacted(), r.Green.redacted()
	return r
}

// String returns c as one line of flow YAML with passwords masked.
func (c Config) String() string {
	out, err := yaml.MarshalWithOptions(c.redactedCopy(), yaml.Flow(true), yaml.OmitEmpty())
	if err != nil {
		return "config{" + redactText(err.Error()) + "}"
	}
	return strings.TrimSpace(string(out))
}

// GoString makes %#v print the redacted form too.
func (c Config) GoString() string { return c.String() }

// LogValue makes slog print c as a group with passwords masked.
func (c Config) LogValue() slog.Value {
	tables := make([]string, len(c.TableList))
	for i, t := range c.TableList {
		tables[i] = t.Name
	}
	return slog.GroupValue(
		slog.String("name", c.Name),
		slog.String("state_dir", c.StateDir),
		slog.Any("blue", c.Blue),
		slog.Any("green", c.Green),
		slog.String("directions", string(c.Directions)),
		slog.Group("kafka",
			slog.String("brokers", strings.Join(c.Kafka.Brokers, ",")),
			slog.String("topic_prefix", c.Kafka.TopicPrefix),
			slog.Int("embedded_port", c.Kafka.Embedded.Port),
		),
		slog.Any("tables", tables),
		slog.Group("apply",
			slog.Int("batch_rows", c.Apply.BatchRows),
			slog.Duration("batch_delay", c.Apply.BatchDelay.Std()),
		),
		slog.Group("log", slog.String("level", c.Log.Level), slog.String("format", c.Log.Format)),
		slog.Group("http", slog.String("listen", c.HTTP.Listen)),
	)
}

// String returns db with the password masked.
func (db Database) String() string {
	out, err := yaml.MarshalWithOptions(db.redacted(), yaml.Flow(true), yaml.OmitEmpty())
	if err != nil {
		return "database{}"
	}
	return strings.TrimSpace(string(out))
}

// GoString makes %#v print the redacted form too.
func (db Database) GoString() string { return db.String() }

// LogValue makes slog print db with the password masked.
func (db Database) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("engine", string(db.Engine)),
		slog.String("dsn", db.DSN.String()),
		slog.String("dsn_file", db.DSNFile),
		slog.String("schema_version", db.SchemaVersion),
	)
}

func (db Database) redacted() Database {
	db.DSN = DSN(db.DSN.String())
	return db
}
