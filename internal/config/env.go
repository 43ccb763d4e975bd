package config

// envOverride is one environment variable that overrides a config key.
type envOverride struct {
	name string // e.g. BGSYNC_BLUE_DSN
	path string // the key path it overrides, e.g. blue.dsn
	set  func(c *Config, v string)
}

// envOverrides lists every BGSYNC_* variable. Add a row to add one; doc.go
// and configs/bgsync.example.yaml list them too (a test checks).
var envOverrides = []envOverride{
	{"BGSYNC_BLUE_DSN", "blue.dsn", func(c *Config, v string) {
		// The env var replaces the DSN source, whichever the file used.
		c.Blue.DSN, c.Blue.DSNFile = DSN(v), ""
	}},
	{"BGSYNC_GREEN_DSN", "green.dsn", func(c *Config, v string) {
		c.Green.DSN, c.Green.DSNFile = DSN(v), ""
	}},
	{"BGSYNC_KAFKA_BROKERS", "kafka.brokers", func(c *Config, v string) { c.Kafka.Brokers = splitList(v) }},
	{"BGSYNC_LOG_LEVEL", "log.level", func(c *Config, v string) { c.Log.Level = v }},
	{"BGSYNC_HTTP_LISTEN", "http.listen", func(c *Config, v string) { c.HTTP.Listen = v }},
	{"BGSYNC_STATE_DIR", "state_dir", func(c *Config, v string) { c.StateDir = v }},
	{"BGSYNC_DIRECTIONS", "directions", func(c *Config, v string) { c.Directions = Directions(v) }},
}

// applyEnv applies the env overrides that are set and not empty, and
// remembers which keys they set so problems name the variable.
func (c *Config) applyEnv(lookupEnv func(string) (string, bool)) {
	if c.meta == nil {
		c.meta = newMeta("")
	}
	for _, o := range envOverrides {
		v, ok := lookupEnv(o.name)
		if !ok || v == "" {
			continue
		}
		o.set(c, v)
		c.meta.env[o.path] = o.name
	}
}
