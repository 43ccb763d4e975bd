package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSetupBadInput feeds `bgsync setup` each kind of bad input the issue
// lists. Every case must exit 2 with a message on stderr that names the
// problem (and, for config files, the line), never a panic, and never a
// password.
func TestSetupBadInput(t *testing.T) {
	requireIntegration(t)
	requireBinary(t)
	db := newTestDB(t, "setup_bad")
	createSchema(t, db, false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, dsn := range []string{db.BlueDSN, db.GreenDSN} {
		if err := execAdmin(ctx, dsn, `CREATE TABLE nopk (a int, b text)`); err != nil {
			t.Fatal(err)
		}
	}
	plainDSN := newPlainDB(t, "setup_bad")
	if err := execAdmin(ctx, plainDSN, schemaDDL); err != nil {
		t.Fatal(err)
	}

	base := itConfig{
		Name:     db.Name,
		StateDir: filepath.Join(t.TempDir(), "state"),
		BlueDSN:  db.BlueDSN,
		GreenDSN: db.GreenDSN,
		Tables:   []string{"public.accounts", "public.orders"},
	}
	// replaceLine replaces line n (1-based) of the rendered config.
	replaceLine := func(c itConfig, n int, with string) string {
		lines := strings.Split(c.render(), "\n")
		lines[n-1] = with
		return strings.Join(lines, "\n")
	}
	with := func(f func(c *itConfig)) string {
		c := base
		c.Tables = slices.Clone(base.Tables)
		f(&c)
		return c.render()
	}

	cases := []struct {
		name   string
		config string
		want   []string // each must appear in stderr (case-insensitive)
		anyOf  []string // at least one must appear (case-insensitive)
		line   int      // if set, stderr must point at this line
	}{
		{
			name:   "wal_level_not_logical",
			config: with(func(c *itConfig) { c.BlueDSN = plainDSN }),
			want:   []string{"wal_level", "logical"},
		},
		{
			name:   "table_without_primary_key",
			config: with(func(c *itConfig) { c.Tables = append(c.Tables, "public.nopk") }),
			want:   []string{"nopk"},
			anyOf:  []string{"primary key", "replica identity"},
		},
		{
			name:   "malformed_yaml",
			config: replaceLine(base, 5, "directions: blue-to-green: oops"),
			line:   5,
		},
		{
			name:   "unknown_config_key",
			config: replaceLine(base, 6, "kafka:\n  brokers: embedded\n  replcation_factor: 3"),
			want:   []string{"replcation_factor"},
			line:   8,
		},
		{
			name:   "unreachable_database",
			config: with(func(c *itConfig) { c.BlueDSN = withHost(c.BlueDSN, "127.0.0.1:1") }),
			want:   []string{"blue"},
		},
		{
			name:   "wrong_password",
			config: with(func(c *itConfig) { c.BlueDSN = withPassword(c.BlueDSN, wrongPassword) }),
			want:   []string{"blue"},
			anyOf:  []string{"password", "authentication"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "bgsync.yaml", tc.config)
			r := runBgsync(t, time.Minute, "setup", "--config", path)
			if r.Code != 2 {
				t.Errorf("exit code %d, want 2", r.Code)
			}
			stderr := strings.ToLower(r.Stderr)
			for _, w := range tc.want {
				if !strings.Contains(stderr, strings.ToLower(w)) {
					t.Errorf("stderr does not mention %q", w)
				}
			}
			if len(tc.anyOf) > 0 && !slices.ContainsFunc(tc.anyOf, func(w string) bool { return strings.Contains(stderr, w) }) {
				t.Errorf("stderr mentions none of %q", tc.anyOf)
			}
			if tc.line > 0 && !mentionsLine(r.Stderr, tc.line) {
				t.Errorf("stderr does not point at line %d", tc.line)
			}
			if strings.Contains(r.Stderr, "goroutine ") || strings.Contains(r.Stderr, "panic:") {
				t.Errorf("bgsync panicked")
			}
			if strings.Contains(r.Stdout+r.Stderr, wrongPassword) {
				t.Errorf("the password %q was printed", wrongPassword)
			}
			if t.Failed() {
				t.Logf("config:\n%s\nresult: %s", redact(tc.config), r)
			} else {
				t.Logf("stderr: %s", strings.TrimSpace(r.Stderr))
			}
			if slots := slotsNamed(t, db.Name); len(slots) > 0 {
				t.Errorf("a failed setup left replication slots behind: %v", slots)
			}
		})
	}
}

// mentionsLine reports whether msg points at line n of a file, in one of
// the usual forms: "line 5", "file.yaml:5:", "[5:3]".
func mentionsLine(msg string, n int) bool {
	re := regexp.MustCompile(fmt.Sprintf(`(?i)(line\s+%d\b|\.ya?ml:%d\b|\[%d:\d+\])`, n, n, n))
	return re.MatchString(msg)
}

// newPlainDB creates database it_<name> on the plain (wal_level=replica)
// cluster and drops it at cleanup; it returns its DSN.
func newPlainDB(t *testing.T, name string) string {
	t.Helper()
	db := "it_" + name
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := waitConnectable(ctx, plainAdminDSN, 10*time.Second); err != nil {
		t.Fatalf("the plain cluster (wal_level=replica) is needed: %v", err)
	}
	if err := dropTestDB(ctx, plainAdminDSN, db); err != nil {
		t.Fatal(err)
	}
	if err := execAdmin(ctx, plainAdminDSN, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dropTestDB(ctx, plainAdminDSN, db); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return withDB(plainAdminDSN, db)
}

// TestSetupDryRun: `setup --dry-run` prints the SQL it would run and
// creates nothing: no slot, no publication, no schema on green.
func TestSetupDryRun(t *testing.T) {
	e := newSyncEnv(t, "dryrun", false)
	greenBefore := schemasOf(t, e.db.GreenDSN)
	originsBefore := origins(t, greenAdminDSN)
	r := runBgsync(t, time.Minute, "setup", "--config", e.cfgPath, "--dry-run")
	if r.Code != 0 {
		t.Fatalf("setup --dry-run failed:\n%s", r)
	}
	out := r.Stdout
	if !strings.Contains(strings.ToUpper(out), "CREATE PUBLICATION") {
		t.Errorf("setup --dry-run did not print CREATE PUBLICATION on stdout:\n%s", r)
	}
	if !strings.Contains(out, e.cfg.Name) {
		t.Errorf("setup --dry-run output does not name the publication/slot %q:\n%s", e.cfg.Name, r)
	}
	t.Logf("dry-run output:\n%s", out)
	if slots := slotsNamed(t, e.cfg.Name); len(slots) > 0 {
		t.Errorf("setup --dry-run created replication slots: %v", slots)
	}
	if pubs := publications(t, e.db.BlueDSN); len(pubs) > 0 {
		t.Errorf("setup --dry-run created publications on blue: %v", pubs)
	}
	if after := schemasOf(t, e.db.GreenDSN); !slices.Equal(after, greenBefore) {
		t.Errorf("setup --dry-run changed green's schemas: before %v, after %v", greenBefore, after)
	}
	if after := origins(t, greenAdminDSN); !slices.Equal(after, originsBefore) {
		t.Errorf("setup --dry-run changed green's replication origins: before %v, after %v", originsBefore, after)
	}
}

// origins lists the replication origins of a cluster.
func origins(t *testing.T, dsn string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := mustConnect(t, dsn)
	s, err := queryStrings(ctx, conn, `SELECT roname FROM pg_replication_origin ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
