package config_test

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/internal/config"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"url", "postgres://app:s3cr3t@db:5432/app", "postgres://app:xxxxx@db:5432/app"},
		{"postgresql scheme with query", "postgresql://app:s3cr3t@db/app?sslmode=require", "postgresql://app:xxxxx@db/app?sslmode=require"},
		{"url without password", "postgres://app@db/app", "postgres://app@db/app"},
		{"url without user info", "postgres://db:5432/app", "postgres://db:5432/app"},
		{"url with empty password", "postgres://app:@db/app", "postgres://app:@db/app"},
		{"percent-encoded password", "postgres://app:p%40ss%2Fw%3Ard%25@db/app", "postgres://app:xxxxx@db/app"},
		{"raw special characters", "postgres://app:p@ss/w?rd#1:x@db:5432/app", "postgres://app:xxxxx@db:5432/app"},
		{"unicode password", "postgres://app:pässwörd€@db/app", "postgres://app:xxxxx@db/app"},
		{"several hosts", "postgres://app:s3cr3t@db1:5432,db2:5433/app", "postgres://app:xxxxx@db1:5432,db2:5433/app"},
		{"password query parameter", "postgres://db/app?user=app&password=s3cr3t&sslmode=require", "postgres://db/app?user=app&password=xxxxx&sslmode=require"},
		{"percent-encoded parameter name", "postgres://db/app?pass%77ord=s3cr3t", "postgres://db/app?pass%77ord=xxxxx"},
		{"sslpassword parameter", "postgres://app:a@db/app?sslpassword=b&sslmode=require", "postgres://app:xxxxx@db/app?sslpassword=xxxxx&sslmode=require"},
		{"# in a password parameter", "postgres://db/app?password=a#b", "postgres://db/app?password=xxxxx"},
		{"& in a password parameter", "postgres://db/app?password=a&b&c&sslmode=require", "postgres://db/app?password=xxxxx&sslmode=require"},
		{"@ in the query masks generously", "postgres://db:5432/app?application_name=me@x", "postgres://db:xxxxx@x"},
		{"other scheme", "mysql://root:s3cr3t@db:3306/app", "mysql://root:xxxxx@db:3306/app"},
		{"keyword/value", "host=db password=s3cr3t dbname=app", "host=db password=xxxxx dbname=app"},
		{"keyword/value at the end", "host=db password=s3cr3t", "host=db password=xxxxx"},
		{"quoted", "host=db password='s3 cr3t' dbname=app", "host=db password=xxxxx dbname=app"},
		{"quoted with escaped quote", `password='it\'s s3cr3t' host=db`, "password=xxxxx host=db"},
		{"blanks around =", "host=db password = s3cr3t dbname=app", "host=db password = xxxxx dbname=app"},
		{"escaped blank", `password=s3\ cr3t host=db`, "password=xxxxx host=db"},
		{"unterminated quote", "host=db password='s3cr3t dbname=app", "host=db password=xxxxx"},
		{"missing =", "host=db password s3cr3t dbname=app", "host=db password xxxxx dbname=app"},
		{"sslpassword", "host=db sslpassword=s3cr3t", "host=db sslpassword=xxxxx"},
		{"empty password at the end", "host=db password=", "host=db password="},
		// libpq skips blanks after '=': the password here is "dbname=app".
		{"blank after =", "host=db password= dbname=app", "host=db password= xxxxx"},
		{"go mysql driver form", "app:s3cr3t@tcp(db:3306)/app?parseTime=true", "app:xxxxx@tcp(db:3306)/app?parseTime=true"},
		{"nothing secret", "host=db dbname=app", "host=db dbname=app"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := config.Redact(tt.dsn); got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.dsn, got, tt.want)
			}
		})
	}
}

const secret = "s3cr3t-pw"

// leaks reports whether s shows the secret or a telling part of it.
func leaks(s string) bool {
	return strings.Contains(s, secret) || strings.Contains(s, "cr3t")
}

// TestNoSecretInErrors feeds bad DSNs holding the password "s3cr3t-pw" in
// every way a DSN reaches the config (file, env var, dsn_file), and YAML
// mistakes on the DSN line, and checks no error text shows it.
func TestNoSecretInErrors(t *testing.T) {
	badDSNs := []string{
		"postgres://app:s3cr3t-pw@localhost:54x33/app",
		"postgres://app:s3cr3t-pw@localhost:5432/app?sslmode=bogus",
		"postgres://app:s3cr3t-pw/x@localhost:5432/app",
		"postgres://app:s3cr3t-pw#frag@localhost:54x33/app",
		"postgres://app:s3cr3t-pw?q@localhost:54x33/app",
		"postgres://app:s3cr3t-pw@x@localhost:5432/app?connect_timeout=-1",
		"postgres://app:s3cr3t-pw%zz@localhost/app",
		"postgres://app:s3cr3t-pw@local host/app",
		"postgres://app:s3cr3t-pw@[::1/app",
		"postgres://localhost/app?password=s3cr3t-pw&sslmode=nope",
		"postgres://localhost/app?password=s3cr3t-pw&port=x",
		"host=localhost password=s3cr3t-pw sslmode=nope",
		"host=localhost password='s3cr3t-pw",
		"host=localhost password s3cr3t-pw",
		"host=localhost password=s3cr3t-pw port=abc",
		"host=localhost password='s3cr3t-pw' target_session_attrs=odd",
		"password=s3cr3t-pw\x00host=localhost",
		"app:s3cr3t-pw@tcp(localhost:3306)/app",
	}
	check := func(t *testing.T, err error) {
		t.Helper()
		cerr := mustFail(t, err)
		if leaks(cerr.Error()) || leaks(fmt.Sprintf("%+v %#v", err, cerr)) {
			t.Errorf("error shows the password:\n%s", cerr.Error())
		}
	}
	for i, dsn := range badDSNs {
		// Subtest names stay free of the secret: t.TempDir uses them.
		t.Run(fmt.Sprintf("file %d", i), func(t *testing.T) {
			_, err := parse(edit(t, base, "  dsn: postgres://app:pw@localhost:5433/app", "  dsn: "+quoteYAML(dsn)))
			check(t, err)
		})
		t.Run(fmt.Sprintf("env %d", i), func(t *testing.T) {
			_, err := config.ParseEnv([]byte(base), "bgsync.yaml", map[string]string{"BGSYNC_GREEN_DSN": dsn})
			check(t, err)
		})
		t.Run(fmt.Sprintf("dsn_file %d", i), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dsn")
			writeFile(t, path, dsn+"\n")
			_, err := parse(edit(t, base, "  dsn: postgres://app:pw@localhost:5433/app", "  dsn_file: "+path))
			check(t, err)
		})
	}
	yamlMistakes := []string{
		"  dsn: \"postgres://app:s3cr3t-pw@localhost/app\n",
		"  dsn: [postgres://app:s3cr3t-pw@localhost/app]\n",
		"  dsn: {postgres://app:s3cr3t-pw@localhost/app: 1}\n",
		"  dsn: postgres://app:s3cr3t-pw@localhost/app: x\n",
		"  dsn: postgres://app:s3cr3t-pw@localhost/app\n  dsn: again\n",
		"  dns: postgres://app:s3cr3t-pw@localhost/app\n",
		"  postgres://app:s3cr3t-pw@localhost/app: 1\n",
		"  'host=localhost password=s3cr3t-pw': 1\n",
		"  dsn: x\n  'postgres://app:s3cr3t-pw@localhost/app': 1\n  'postgres://app:s3cr3t-pw@localhost/app': 2\n",
		"  dsn: !!binary postgres://app:s3cr3t-pw@localhost/app\n",
		"  dsn: *postgres://app:s3cr3t-pw@localhost/app\n",
		"  dsn: postgres://app:s3cr3t-pw@localhost/app\n  engine: *pg\n",
		"  dsn: |\n   postgres://app:s3cr3t-pw@localhost/app\n  x\n",
	}
	for i, line := range yamlMistakes {
		t.Run(fmt.Sprintf("yaml %d", i), func(t *testing.T) {
			_, err := parse(edit(t, base, "  dsn: postgres://app:pw@localhost:5433/app\n", line))
			check(t, err)
		})
	}
}

func quoteYAML(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestConfigPrintsRedacted checks every way a Config gets printed or
// logged.
func TestConfigPrintsRedacted(t *testing.T) {
	text := edit(t, base, "postgres://app:pw@localhost:5433/app", "postgres://app:s3cr3t-pw@localhost:5433/app")
	text = edit(t, text, "password=pw", "password='s3cr3t-pw'")
	c, err := parse(text)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("config", "cfg", c, "value", *c, "blue", c.Blue, "dsn", c.Blue.DSN)
	textLog := &strings.Builder{}
	slog.New(slog.NewTextHandler(textLog, nil)).Info("config", "cfg", c)

	outputs := map[string]string{
		"String":   c.String(),
		"%v":       fmt.Sprintf("%v", c),
		"%+v":      fmt.Sprintf("%+v", *c),
		"%#v":      fmt.Sprintf("%#v", c),
		"%s value": fmt.Sprintf("%s", *c),
		"Database": fmt.Sprintf("%v %+v %#v", c.Blue, c.Green, c.Green),
		"DSN":      fmt.Sprintf("%v %s %#v", c.Blue.DSN, c.Green.DSN, c.Blue.DSN),
		"json log": logged.String(),
		"text log": textLog.String(),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			if leaks(out) {
				t.Errorf("shows the password: %s", out)
			}
			if !strings.Contains(out, "xxxxx") {
				t.Errorf("no masked DSN in: %s", out)
			}
		})
	}
	if dsn, _ := c.BlueDSN(); !strings.Contains(dsn, secret) {
		t.Errorf("BlueDSN() = %q lost the password", dsn)
	}
}
