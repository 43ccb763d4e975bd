package config_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bgsync/bgsync/internal/config"
)

var ignoreMeta = cmpopts.IgnoreUnexported(config.Config{})

func TestParseValid(t *testing.T) {
	full := `name: shop_sync
state_dir: /var/lib/bgsync
blue:
  engine: postgres
  dsn: postgres://app:pw@blue:5432/shop
  schema_version: v1
green:
  engine: postgres
  dsn: host=green dbname=shop user=app password='p w'
  schema_version: v2
directions: both
kafka:
  brokers: [k1:9092, "k2:9093"]
  topic_prefix: shop.cdc
  embedded: {port: 19092}
tables:
  - name: public.orders
  - name: Sales."LineItems"
apply:
  batch_rows: 200
  batch_delay: 1.5s
log:
  level: warn
  format: text
http:
  listen: ":9999"
`
	want := &config.Config{
		Name:     "shop_sync",
		StateDir: "/var/lib/bgsync",
		Blue: config.Database{
			Engine: config.EnginePostgres, DSN: "postgres://app:pw@blue:5432/shop", SchemaVersion: "v1",
		},
		Green: config.Database{
			Engine: config.EnginePostgres, DSN: "host=green dbname=shop user=app password='p w'", SchemaVersion: "v2",
		},
		Directions: config.Both,
		Kafka: config.Kafka{
			Brokers:     config.Brokers{"k1:9092", "k2:9093"},
			TopicPrefix: "shop.cdc",
			Embedded:    config.EmbeddedBroker{Port: 19092},
		},
		TableList: []config.Table{{Name: "public.orders"}, {Name: `Sales."LineItems"`}},
		Apply:     config.Apply{BatchRows: 200, BatchDelay: config.Duration(1500 * time.Millisecond)},
		Snapshot:  config.Snapshot{InitialLoad: "off", From: config.Blue, TargetNotEmpty: "fail", Workers: 4, ChunkRows: 100000},
		Log:       config.Log{Level: "warn", Format: "text"},
		HTTP:      config.HTTP{Listen: ":9999"},
		Gates:     config.Gates{MaxLag: config.Duration(5 * time.Second), VerifyMaxAge: config.Duration(time.Hour), ErrorWindow: config.Duration(5 * time.Minute)},
		Lag:       config.Lag{HeartbeatInterval: config.Duration(time.Second)},
	}

	t.Run("decode", func(t *testing.T) {
		got, err := parse(full)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, ignoreMeta); diff != "" {
			t.Errorf("-want +got:\n%s", diff)
		}
	})
	t.Run("marshal and parse again", func(t *testing.T) {
		got, err := parse(full)
		if err != nil {
			t.Fatal(err)
		}
		out, err := yaml.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parse(string(out))
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if diff := cmp.Diff(got, again, ignoreMeta); diff != "" {
			t.Errorf("-first +second:\n%s", diff)
		}
	})
	t.Run("brokers as comma-separated string", func(t *testing.T) {
		got, err := parse(edit(t, full, `[k1:9092, "k2:9093"]`, `"k1:9092, k2:9093"`))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.Kafka.Brokers, got.Kafka.Brokers); diff != "" {
			t.Errorf("-want +got:\n%s", diff)
		}
		if got.Kafka.Brokers.Embedded() {
			t.Error("Embedded() = true for external brokers")
		}
	})
	t.Run("anchors and aliases", func(t *testing.T) {
		text := edit(t, full, "blue:\n  engine: postgres", "blue:\n  engine: &pg postgres")
		text = edit(t, text, "green:\n  engine: postgres", "green:\n  engine: *pg")
		got, err := parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if got.Green.Engine != config.EnginePostgres {
			t.Errorf("green.engine = %q", got.Green.Engine)
		}
	})
}

func TestParseDefaults(t *testing.T) {
	minimal := `blue: {engine: postgres, dsn: "postgres://localhost/a"}
green: {engine: postgres, dsn: "postgres://localhost/b"}
directions: blue-to-green
tables: [{name: t}]
`
	got, err := parse(minimal)
	if err != nil {
		t.Fatal(err)
	}
	want := &config.Config{
		Name:       "bgsync",
		StateDir:   "./.bgsync",
		Blue:       config.Database{Engine: "postgres", DSN: "postgres://localhost/a"},
		Green:      config.Database{Engine: "postgres", DSN: "postgres://localhost/b"},
		Directions: config.BlueToGreen,
		Kafka:      config.Kafka{Brokers: config.Brokers{"embedded"}, TopicPrefix: "bgsync"},
		TableList:  []config.Table{{Name: "t"}},
		Apply:      config.Apply{BatchRows: 5000, BatchDelay: config.Duration(10 * time.Millisecond)},
		Snapshot:   config.Snapshot{InitialLoad: "off", From: config.Blue, TargetNotEmpty: "fail", Workers: 4, ChunkRows: 100000},
		Log:        config.Log{Level: "info", Format: "json"},
		HTTP:       config.HTTP{Listen: "127.0.0.1:9187"},
		Gates:      config.Gates{MaxLag: config.Duration(5 * time.Second), VerifyMaxAge: config.Duration(time.Hour), ErrorWindow: config.Duration(5 * time.Minute)},
		Lag:        config.Lag{HeartbeatInterval: config.Duration(time.Second)},
	}
	if diff := cmp.Diff(want, got, ignoreMeta); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
	if !got.Kafka.Brokers.Embedded() || got.Kafka.Brokers.Addrs() != nil {
		t.Errorf("brokers %v: want embedded", got.Kafka.Brokers)
	}

	t.Run("topic prefix follows name", func(t *testing.T) {
		got, err := parse("name: other\n" + minimal)
		if err != nil {
			t.Fatal(err)
		}
		if got.Kafka.TopicPrefix != "other" {
			t.Errorf("topic_prefix = %q, want other", got.Kafka.TopicPrefix)
		}
	})
}

// TestParseSyntaxAndKeys covers what the decoder rejects before
// validation: the whole error text is asserted, line included.
func TestParseSyntaxAndKeys(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{
			name: "unknown top-level key",
			text: edit(t, base, "tables:", "tabels:"),
			want: `bgsync.yaml:11: unknown key "tabels" (did you mean "tables"?)`,
		},
		{
			name: "unknown nested key",
			text: edit(t, base, "  dsn: postgres://app", "  dns: postgres://app"),
			want: `bgsync.yaml:4: blue: unknown key "dns" (did you mean "dsn"?)`,
		},
		{
			name: "unknown key two levels down",
			text: edit(t, base, "  brokers: embedded\n", "  brokers: embedded\n  embedded:\n    prot: 1\n"),
			want: `bgsync.yaml:12: kafka.embedded: unknown key "prot" (did you mean "port"?)`,
		},
		{
			name: "unknown key in a list item",
			text: edit(t, base, "  - name: customers", "  - name: customers\n    policy: manual"),
			want: `bgsync.yaml:14: tables[1]: unknown key "policy"`,
		},
		{
			name: "unknown key without a near match",
			text: base + "frobnicate: true\n",
			want: `bgsync.yaml:22: unknown key "frobnicate"`,
		},
		{
			name: "all unknown keys at once",
			text: edit(t, edit(t, base, "tables:", "tabels:"), "  level: debug", "  lvl: debug"),
			want: "bgsync.yaml: 2 problems:\n" +
				"\tbgsync.yaml:11: unknown key \"tabels\" (did you mean \"tables\"?)\n" +
				"\tbgsync.yaml:18: log: unknown key \"lvl\" (did you mean \"level\"?)",
		},
		{
			// The parser notices on the next line.
			name: "unclosed flow list",
			text: edit(t, base, "  brokers: embedded", "  brokers: [a:1, b:2"),
			want: `bgsync.yaml:11: invalid YAML: ',' or ']' must be specified`,
		},
		{
			name: "unclosed flow list at the end",
			text: base + "extra: [a, b\n",
			want: `bgsync.yaml:22: invalid YAML: sequence end token ']' not found`,
		},
		{
			name: "unterminated quote",
			text: edit(t, base, "  level: debug", "  level: \"debug"),
			want: `bgsync.yaml:18: invalid YAML: could not find end character of double-quoted text`,
		},
		{
			// Over-indented, the line continues the scalar above it.
			name: "bad indentation",
			text: edit(t, base, "  format: text", "   format: text"),
			want: `bgsync.yaml:18: invalid YAML: mapping value is not allowed in this context`,
		},
		{
			name: "tab indentation",
			text: edit(t, base, "  level: debug", "\tlevel: debug"),
			want: `bgsync.yaml:18: invalid YAML: found character '	' that cannot start any token`,
		},
		{
			name: "duplicate key",
			text: base + "name: again\n",
			want: `bgsync.yaml:22: duplicate key "name" (first on line 1)`,
		},
		{
			name: "string where a list is expected",
			text: edit(t, base, "tables:\n  - name: public.orders\n  - name: customers", "tables: public.orders"),
			want: `bgsync.yaml:11: tables: expected a list, got a string`,
		},
		{
			name: "list where a string is expected",
			text: edit(t, base, "  level: debug", "  level: [debug]"),
			want: `bgsync.yaml:18: log.level: expected a string, got a list`,
		},
		{
			name: "string where a mapping is expected",
			text: edit(t, base, "http:\n  listen: 127.0.0.1:0", "http: 127.0.0.1:0"),
			want: `bgsync.yaml:20: http: expected a mapping, got a string`,
		},
		{
			name: "string where an integer is expected",
			text: edit(t, base, "  batch_rows: 100", "  batch_rows: lots"),
			want: `bgsync.yaml:15: apply.batch_rows: expected an integer, got a string`,
		},
		{
			name: "integer overflow",
			text: edit(t, base, "  batch_rows: 100", "  batch_rows: 99999999999999999999999"),
			want: `bgsync.yaml:15: apply.batch_rows: number 99999999999999999999999 is out of range`,
		},
		{
			name: "bad duration",
			text: edit(t, base, "  batch_delay: 5ms", "  batch_delay: 5 parsecs"),
			want: `bgsync.yaml:16: apply.batch_delay: invalid duration "5 parsecs" (use a unit: "10ms", "2s", "1m")`,
		},
		{
			name: "duration without unit",
			text: edit(t, base, "  batch_delay: 5ms", "  batch_delay: 5"),
			want: `bgsync.yaml:16: apply.batch_delay: duration 5 has no unit (write e.g. "10ms")`,
		},
		{
			name: "brokers as a mapping",
			text: edit(t, base, "  brokers: embedded", "  brokers: {host: k1}"),
			want: `bgsync.yaml:10: kafka.brokers: expected "embedded" or a list of host:port, got a mapping`,
		},
		{
			name: "broker as a number",
			text: edit(t, base, "  brokers: embedded", "  brokers:\n    - k1:9092\n    - 9092"),
			want: `bgsync.yaml:12: kafka.brokers[1]: expected a host:port string, got an integer`,
		},
		{
			name: "top level is a list",
			text: "- name: bgsync\n",
			want: `bgsync.yaml:1: expected a mapping of keys (name:, blue:, ...), got a list`,
		},
		{
			name: "two documents",
			text: base + "---\nname: other\n",
			want: `bgsync.yaml:23: a config file holds one YAML document; remove this one or the "---" before it`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.text)
			cerr := mustFail(t, err)
			if got := cerr.Error(); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bgsync.yaml")
		writeFile(t, path, edit(t, base, "tables:", "tabels:"))
		_, err := config.Load(path)
		cerr := mustFail(t, err)
		if want := path + `:11: unknown key "tabels" (did you mean "tables"?)`; cerr.Error() != want {
			t.Errorf("error:\n got %s\nwant %s", cerr.Error(), want)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope.yaml")
		_, err := config.Load(path)
		cerr := mustFail(t, err)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
		}
		if want := path + ": cannot read config file: no such file or directory"; cerr.Error() != want {
			t.Errorf("error:\n got %s\nwant %s", cerr.Error(), want)
		}
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		_, err := config.Load(dir)
		cerr := mustFail(t, err)
		if want := dir + ": cannot read config file: is a directory"; cerr.Error() != want {
			t.Errorf("error:\n got %s\nwant %s", cerr.Error(), want)
		}
	})
	t.Run("too large", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "big.yaml")
		writeFile(t, path, base+strings.Repeat("# padding\n", config.MaxFileSize/10))
		_, err := config.Load(path)
		cerr := mustFail(t, err)
		if want := path + ": config is larger than 1048576 bytes"; cerr.Error() != want {
			t.Errorf("error:\n got %s\nwant %s", cerr.Error(), want)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "empty.yaml")
		writeFile(t, path, "# nothing yet\n")
		_, err := config.Load(path)
		cerr := mustFail(t, err)
		if !strings.Contains(cerr.Error(), "tables: at least one table is required") {
			t.Errorf("error does not ask for tables: %v", err)
		}
	})
}
