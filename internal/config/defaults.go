package config

import "time"

// Defaults for keys left out of the file (or zero in a Config built in Go).
const (
	DefaultName       = "bgsync"
	DefaultStateDir   = "./.bgsync"
	DefaultBatchRows  = 5000
	DefaultBatchDelay = 10 * time.Millisecond
	DefaultLogLevel   = "info"
	DefaultLogFormat  = "json"
	DefaultHTTPListen = "127.0.0.1:9187"

	DefaultHeartbeatInterval = time.Second
	MinHeartbeatInterval     = 100 * time.Millisecond
	MaxHeartbeatInterval     = time.Minute

	DefaultGateMaxLag       = 5 * time.Second
	DefaultGateVerifyMaxAge = time.Hour
	DefaultGateErrorWindow  = 5 * time.Minute
)

// ApplyDefaults sets every zero-valued key that has a default. Parse and
// Load call it; it is idempotent.
func (c *Config) ApplyDefaults() {
	setDefault(&c.Name, DefaultName)
	setDefault(&c.StateDir, DefaultStateDir)
	if len(c.Kafka.Brokers) == 0 {
		c.Kafka.Brokers = Brokers{EmbeddedBrokers}
	}
	setDefault(&c.Kafka.TopicPrefix, c.Name)
	setDefault(&c.Apply.BatchRows, DefaultBatchRows)
	setDefault(&c.Apply.BatchDelay, Duration(DefaultBatchDelay))
	setDefault(&c.Snapshot.InitialLoad, InitialLoadOff)
	setDefault(&c.Snapshot.From, Blue)
	setDefault(&c.Snapshot.TargetNotEmpty, "fail")
	setDefault(&c.Snapshot.Workers, 4)
	setDefault(&c.Snapshot.ChunkRows, 100000)
	setDefault(&c.Log.Level, DefaultLogLevel)
	setDefault(&c.Log.Format, DefaultLogFormat)
	setDefault(&c.HTTP.Listen, DefaultHTTPListen)
	setDefault(&c.Lag.HeartbeatInterval, Duration(DefaultHeartbeatInterval))
	setDefault(&c.Gates.MaxLag, Duration(DefaultGateMaxLag))
	setDefault(&c.Gates.VerifyMaxAge, Duration(DefaultGateVerifyMaxAge))
	setDefault(&c.Gates.ErrorWindow, Duration(DefaultGateErrorWindow))
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
