package config_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bgsync/bgsync/internal/config"
)

func TestValidateBase(t *testing.T) {
	if _, err := parse(base); err != nil {
		t.Fatalf("base config: %v", err)
	}
}

// TestValidateProblems edits one line of base per case and asserts the one
// problem reported: key path, line and message.
func TestValidateProblems(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name     string
		old, new string
		path     string
		line     int
		msg      string
	}{
		{"name with upper case", "name: bgsync", "name: BGSync", "name", 1,
			`invalid name "BGSync": use lower-case letters, digits and _, starting with a letter; it becomes part of PostgreSQL identifiers (try "bgsync")`},
		{"name with a dash", "name: bgsync", "name: bg-sync", "name", 1,
			`invalid name "bg-sync": use lower-case letters, digits and _, starting with a letter; it becomes part of PostgreSQL identifiers`},
		{"name too long", "name: bgsync", "name: " + strings.Repeat("a", 41), "name", 1,
			`name "` + strings.Repeat("a", 41) + `" is 41 bytes long, more than 40 (slot and origin names derived from it must fit in 63)`},
		{"unknown engine", "  engine: postgres\n  dsn: postgres", "  engine: oracle\n  dsn: postgres", "blue.engine", 3,
			`unknown engine "oracle" (supported: postgres, mariadb, mysql)`},
		{"mysql DSN must be the driver form", "  engine: postgres\n  dsn: host", "  engine: mysql\n  dsn: host", "green.dsn", 7,
			`invalid DSN "host=localhost port=5434 dbname=app user=app password=xxxxx": missing the slash separating the database name`},
		{"mariadb DSN given as a URL", "  engine: postgres\n  dsn: postgres", "  engine: mariadb\n  dsn: postgres", "blue.dsn", 4,
			`invalid DSN: MariaDB/MySQL DSNs take the form user:password@tcp(host:port)/ (go-sql-driver), not a URL`},
		{"engine missing", "  engine: postgres\n  dsn: postgres", "  dsn: postgres", "blue.engine", 2,
			`engine is required (supported: postgres, mariadb, mysql)`},
		{"dsn and dsn_file", "  dsn: postgres://app:pw@localhost:5433/app", "  dsn: postgres://app:pw@localhost:5433/app\n  dsn_file: /run/secrets/blue", "blue", 2,
			`dsn and dsn_file are both set; set exactly one`},
		{"no dsn", "  dsn: postgres://app:pw@localhost:5433/app\n", "", "blue", 2,
			`a DSN is required: set dsn or dsn_file (or BGSYNC_BLUE_DSN)`},
		{"bad port in URL dsn", "postgres://app:pw@localhost:5433/app", "postgres://app:pw@localhost:54x33/app", "blue.dsn", 4,
			`invalid DSN "postgres://app:xxxxx@localhost:54x33/app": invalid port`},
		{"unencoded password in URL dsn", "postgres://app:pw@localhost:5433/app", "postgres://app:p/w#1@localhost:5433/app", "blue.dsn", 4,
			`invalid DSN "postgres://app:xxxxx@localhost:5433/app": invalid port (percent-encode special characters in the user name and password, e.g. @ as %40, / as %2F)`},
		{"password with unencoded percent", "postgres://app:pw@localhost:5433/app", "postgres://app:100%pw@localhost:5433/app", "blue.dsn", 4,
			`invalid DSN "postgres://app:xxxxx@localhost:5433/app": not a valid URL (percent-encode special characters in the user name and password, e.g. @ as %40, / as %2F)`},
		{"bad sslmode in keyword/value dsn", "  dsn: host=localhost port=5434", "  dsn: host=localhost port=5434 sslmode=sometimes", "green.dsn", 7,
			`invalid DSN "host=localhost port=5434 sslmode=sometimes dbname=app user=app password=xxxxx": failed to configure TLS (sslmode is invalid)`},
		{"malformed keyword/value dsn", "  dsn: host=localhost port=5434", "  dsn: host=localhost port 5434", "green.dsn", 7,
			`invalid DSN: not a valid keyword/value string (write key=value pairs separated by spaces; quote values with spaces as 'a b')`},
		{"unreadable dsn_file", "  dsn: postgres://app:pw@localhost:5433/app", "  dsn_file: " + missing, "blue.dsn_file", 4,
			"cannot read " + missing + ": no such file or directory"},
		{"dsn_file is a directory", "  dsn: postgres://app:pw@localhost:5433/app", "  dsn_file: /", "blue.dsn_file", 4,
			"/ is not a regular file"},
		{"unknown directions", "directions: blue-to-green", "directions: sideways", "directions", 8,
			`unknown directions "sideways": use blue-to-green, green-to-blue or both`},
		{"directions missing", "directions: blue-to-green\n", "", "directions", 0,
			`directions is required: blue-to-green, green-to-blue or both`},
		{"broker without port", "  brokers: embedded", "  brokers:\n    - k1:9092\n    - k2", "kafka.brokers[1]", 12,
			`invalid address "k2": want host:port`},
		{"broker port zero", "  brokers: embedded", "  brokers: [k1:0]", "kafka.brokers[0]", 10,
			`invalid port "0" in "k1:0"`},
		{"broker twice", "  brokers: embedded", "  brokers:\n    - k1:9092\n    - k1:9092", "kafka.brokers[1]", 12,
			`broker "k1:9092" is listed twice (also kafka.brokers[0])`},
		{"embedded mixed with brokers", "  brokers: embedded", "  brokers: [embedded, k1:9092]", "kafka.brokers[0]", 10,
			`"embedded" cannot be combined with broker addresses`},
		{"topic prefix", "  brokers: embedded", "  topic_prefix: a/b", "kafka.topic_prefix", 10,
			`invalid topic prefix "a/b": use letters, digits, '.', '_' and '-'`},
		{"embedded port", "  brokers: embedded", "  embedded: {port: 70000}", "kafka.embedded.port", 10,
			`port 70000 is out of range 0-65535 (0 picks a free port)`},
		{"no tables", "tables:\n  - name: public.orders\n  - name: customers", "tables: []", "tables", 11,
			`at least one table is required`},
		{"duplicate table", "  - name: customers", "  - name: ORDERS", "tables[1].name", 13,
			`table public.orders is listed twice (also tables[0])`},
		{"table name with too many dots", "  - name: customers", "  - name: a.b.c", "tables[1].name", 13,
			`invalid table name: too many dots in "a.b.c"; write schema.table`},
		{"two zones under a timestamp column", "  - name: customers", "  - name: customers\n    conflict: {policy: last-writer-wins, timestamp_column: at}\n" +
			"    transforms:\n      blue_to_green: {zone: Europe/Berlin}\n      green_to_blue: {zone: UTC}", "tables[1].transforms.green_to_blue.zone", 17,
			`table public.customers: zone UTC differs from blue_to_green's Europe/Berlin; the timestamp column at is read in one zone on both sides, so both must say the same`},
		{"table name empty", "  - name: customers", "  - name: ''", "tables[1].name", 13,
			`name is required`},
		{"table without name", "  - name: customers", "  - {}", "tables[1].name", 13,
			`name is required`},
		{"table name unterminated quote", "  - name: customers", `  - name: '"Orders'`, "tables[1].name", 13,
			`invalid table name: unterminated quoted name "Orders`},
		{"unknown initial_load", "log:\n", "snapshot:\n  initial_load: yes\nlog:\n", "snapshot.initial_load", 18,
			`initial_load "yes": want off or auto`},
		{"unknown target_not_empty", "log:\n", "snapshot:\n  target_not_empty: replace\nlog:\n", "snapshot.target_not_empty", 18,
			`target_not_empty "replace": want fail, truncate or merge`},
		{"snapshot from a third side", "log:\n", "snapshot:\n  from: red\nlog:\n", "snapshot.from", 18,
			`from "red": want blue or green`},
		{"too many snapshot workers", "log:\n", "snapshot:\n  workers: 100\nlog:\n", "snapshot.workers", 18,
			`workers 100 is out of range 1-64`},
		{"tiny chunks", "log:\n", "snapshot:\n  chunk_rows: 10\nlog:\n", "snapshot.chunk_rows", 18,
			`chunk_rows 10 is out of range 100-100000000`},
		{"negative snapshot rate", "log:\n", "snapshot:\n  max_rows_per_second: -5\nlog:\n", "snapshot.max_rows_per_second", 18,
			`max_rows_per_second -5 is negative`},
		{"negative batch_rows", "  batch_rows: 100", "  batch_rows: -1", "apply.batch_rows", 15,
			`batch_rows -1 is out of range 1-1000000`},
		{"huge batch_rows", "  batch_rows: 100", "  batch_rows: 2000000", "apply.batch_rows", 15,
			`batch_rows 2000000 is out of range 1-1000000`},
		{"negative batch_delay", "  batch_delay: 5ms", "  batch_delay: -5ms", "apply.batch_delay", 16,
			`batch_delay -5ms is negative`},
		{"batch_delay minutes", "  batch_delay: 5ms", "  batch_delay: 10m", "apply.batch_delay", 16,
			`batch_delay 10m0s is longer than 10s (did you mean 10ms?)`},
		{"log level", "  level: debug", "  level: verbose", "log.level", 18,
			`unknown value "verbose": use one of debug, info, warn, error`},
		{"log format", "  format: text", "  format: xml", "log.format", 19,
			`unknown value "xml": use one of json, text`},
		{"listen without port", "  listen: 127.0.0.1:0", "  listen: localhost", "http.listen", 21,
			`invalid address "localhost": want host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(edit(t, base, tt.old, tt.new))
			cerr := mustFail(t, err)
			want := []config.Problem{{Path: tt.path, Line: tt.line, Msg: tt.msg}}
			if diff := cmp.Diff(want, cerr.Problems, ignoreColumn); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
			wantText := "bgsync.yaml:" + itoa(tt.line) + ": " + tt.path + ": " + tt.msg
			if tt.line == 0 {
				wantText = "bgsync.yaml: " + tt.path + ": " + tt.msg
			}
			if got := cerr.Error(); got != wantText {
				t.Errorf("Error():\n got %s\nwant %s", got, wantText)
			}
		})
	}
}

// TestValidateAllProblems breaks many keys at once and expects every
// problem, in file order.
func TestValidateAllProblems(t *testing.T) {
	text := base
	for _, e := range [][2]string{
		{"name: bgsync", "name: Bad-Name"},
		{"  engine: postgres\n  dsn: postgres", "  engine: oracle\n  dsn: postgres"},
		{"  dsn: host=localhost port=5434 dbname=app user=app password=pw\n", ""},
		{"directions: blue-to-green", "directions: up"},
		{"  brokers: embedded", "  brokers: [nohost]"},
		{"  - name: customers", "  - name: public.orders"},
		{"  batch_delay: 5ms", "  batch_delay: -1s"},
		{"  format: text", "  format: yaml"},
	} {
		text = edit(t, text, e[0], e[1])
	}
	_, err := parse(text)
	cerr := mustFail(t, err)
	want := []at{
		{"name", 1},
		{"blue.engine", 3},
		{"green", 5},
		{"directions", 7},
		{"kafka.brokers[0]", 9},
		{"tables[1].name", 12},
		{"apply.batch_delay", 15},
		{"log.format", 18},
	}
	if diff := cmp.Diff(want, locations(cerr)); diff != "" {
		t.Errorf("-want +got:\n%s\n%v", diff, err)
	}
	if first := strings.SplitN(cerr.Error(), "\n", 2)[0]; first != "bgsync.yaml: 8 problems:" {
		t.Errorf("first line %q", first)
	}
}

func TestValidateBuiltInGo(t *testing.T) {
	t.Run("zero values take defaults", func(t *testing.T) {
		c := &config.Config{
			Blue:       config.Database{Engine: config.EnginePostgres, DSN: "postgres://localhost/a"},
			Green:      config.Database{Engine: config.EnginePostgres, DSN: "postgres://localhost/b"},
			Directions: config.BlueToGreen,
			TableList:  []config.Table{{Name: "orders"}},
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.Apply.BatchRows != 0 {
			t.Error("Validate changed the config")
		}
	})
	t.Run("problems have no lines", func(t *testing.T) {
		c := &config.Config{Directions: "up"}
		cerr := mustFail(t, c.Validate())
		for _, p := range cerr.Problems {
			if p.Line != 0 {
				t.Errorf("problem %v has a line", p)
			}
		}
		if !strings.HasPrefix(cerr.Error(), "config: 6 problems:\n\tblue.engine: ") {
			t.Errorf("Error() = %s", cerr.Error())
		}
	})
}
