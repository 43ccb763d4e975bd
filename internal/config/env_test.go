package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bgsync/bgsync/internal/config"
)

func TestEnvOverrides(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c *config.Config)
	}{
		{"BGSYNC_BLUE_DSN", map[string]string{"BGSYNC_BLUE_DSN": "postgres://env@blue/db"}, func(t *testing.T, c *config.Config) {
			if c.Blue.DSN != "postgres://env@blue/db" {
				t.Errorf("blue.dsn = %q", string(c.Blue.DSN))
			}
		}},
		{"BGSYNC_GREEN_DSN", map[string]string{"BGSYNC_GREEN_DSN": "host=green dbname=env"}, func(t *testing.T, c *config.Config) {
			if c.Green.DSN != "host=green dbname=env" {
				t.Errorf("green.dsn = %q", string(c.Green.DSN))
			}
		}},
		{"BGSYNC_KAFKA_BROKERS", map[string]string{"BGSYNC_KAFKA_BROKERS": "k1:9092, k2:9092"}, func(t *testing.T, c *config.Config) {
			if diff := cmp.Diff(config.Brokers{"k1:9092", "k2:9092"}, c.Kafka.Brokers); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		}},
		{"BGSYNC_KAFKA_BROKERS embedded", map[string]string{"BGSYNC_KAFKA_BROKERS": "embedded"}, func(t *testing.T, c *config.Config) {
			if !c.Kafka.Brokers.Embedded() {
				t.Errorf("brokers = %v", c.Kafka.Brokers)
			}
		}},
		{"BGSYNC_LOG_LEVEL", map[string]string{"BGSYNC_LOG_LEVEL": "error"}, func(t *testing.T, c *config.Config) {
			if c.Log.Level != "error" {
				t.Errorf("log.level = %q", c.Log.Level)
			}
		}},
		{"BGSYNC_HTTP_LISTEN", map[string]string{"BGSYNC_HTTP_LISTEN": "0.0.0.0:9000"}, func(t *testing.T, c *config.Config) {
			if c.HTTP.Listen != "0.0.0.0:9000" {
				t.Errorf("http.listen = %q", c.HTTP.Listen)
			}
		}},
		{"BGSYNC_STATE_DIR", map[string]string{"BGSYNC_STATE_DIR": "/data"}, func(t *testing.T, c *config.Config) {
			if c.StateDir != "/data" {
				t.Errorf("state_dir = %q", c.StateDir)
			}
		}},
		{"BGSYNC_DIRECTIONS", map[string]string{"BGSYNC_DIRECTIONS": "both"}, func(t *testing.T, c *config.Config) {
			if c.Directions != config.Both {
				t.Errorf("directions = %q", c.Directions)
			}
		}},
		{"empty value is ignored", map[string]string{"BGSYNC_LOG_LEVEL": "", "BGSYNC_BLUE_DSN": ""}, func(t *testing.T, c *config.Config) {
			if c.Log.Level != "debug" || c.Blue.DSN != "postgres://app:pw@localhost:5433/app" {
				t.Errorf("log.level = %q, blue.dsn = %v", c.Log.Level, c.Blue.DSN)
			}
		}},
	}
	if len(tests)-2 != len(config.EnvVarNames()) {
		t.Fatalf("%d env vars, tests cover %d", len(config.EnvVarNames()), len(tests)-2)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.ParseEnv([]byte(base), "bgsync.yaml", tt.env)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestEnvOverrideDetails(t *testing.T) {
	t.Run("DSN env replaces dsn_file", func(t *testing.T) {
		text := edit(t, base, "  dsn: postgres://app:pw@localhost:5433/app", "  dsn_file: /nonexistent/blue")
		c, err := config.ParseEnv([]byte(text), "bgsync.yaml", map[string]string{"BGSYNC_BLUE_DSN": "postgres://localhost/x"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Blue.DSNFile != "" || c.Blue.DSN != "postgres://localhost/x" {
			t.Errorf("blue = %+v", c.Blue)
		}
	})
	t.Run("env fills a key missing from the file", func(t *testing.T) {
		text := edit(t, base, "directions: blue-to-green\n", "")
		c, err := config.ParseEnv([]byte(text), "bgsync.yaml", map[string]string{"BGSYNC_DIRECTIONS": "blue-to-green"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Directions != config.BlueToGreen {
			t.Errorf("directions = %q", c.Directions)
		}
	})
	t.Run("problems name the env var, not a line", func(t *testing.T) {
		_, err := config.ParseEnv([]byte(base), "bgsync.yaml", map[string]string{
			"BGSYNC_LOG_LEVEL":     "loud",
			"BGSYNC_KAFKA_BROKERS": "k1:9092,k1",
		})
		cerr := mustFail(t, err)
		want := []config.Problem{
			{Path: "kafka.brokers[1]", Msg: `invalid address "k1": want host:port (set by BGSYNC_KAFKA_BROKERS)`},
			{Path: "log.level", Msg: `unknown value "loud": use one of debug, info, warn, error (set by BGSYNC_LOG_LEVEL)`},
		}
		if diff := cmp.Diff(want, cerr.Problems); diff != "" {
			t.Errorf("-want +got:\n%s", diff)
		}
	})
	t.Run("Parse reads the process environment", func(t *testing.T) {
		t.Setenv("BGSYNC_HTTP_LISTEN", "127.0.0.1:9999")
		c, err := config.Parse([]byte(base), "bgsync.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if c.HTTP.Listen != "127.0.0.1:9999" {
			t.Errorf("http.listen = %q", c.HTTP.Listen)
		}
	})
}

// TestEnvDocumented checks that doc.go and the example config list every
// env var of the override table.
func TestEnvDocumented(t *testing.T) {
	for _, file := range []string{"doc.go", filepath.Join("..", "..", "configs", "bgsync.example.yaml")} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range config.EnvVarNames() {
			if !strings.Contains(string(data), name) {
				t.Errorf("%s does not mention %s", file, name)
			}
		}
	}
}
