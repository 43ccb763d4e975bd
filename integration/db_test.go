package integration

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The three test clusters started by scripts/env.sh.
var (
	blueAdminDSN  = envOr("BGSYNC_TEST_BLUE_DSN", "postgres://postgres:bgsync@127.0.0.1:15433/postgres?sslmode=disable")
	greenAdminDSN = envOr("BGSYNC_TEST_GREEN_DSN", "postgres://postgres:bgsync@127.0.0.1:15434/postgres?sslmode=disable")
	plainAdminDSN = envOr("BGSYNC_TEST_PLAIN_DSN", "postgres://postgres:bgsync@127.0.0.1:15435/postgres?sslmode=disable")
	// greenCluster is the "version/name" of the green cluster for
	// pg_ctlcluster (TestTargetRestart restarts it).
	greenCluster = envOr("BGSYNC_TEST_GREEN_CLUSTER", "15/bgsync_green")
)

// wrongPassword is the password of the wrong-password case; it must never
// be printed.
const wrongPassword = "Wr0ng-s3cret-pw"

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// secretPatterns are the strings that would show a password in output.
func secretPatterns() []string {
	pats := []string{wrongPassword}
	for _, dsn := range []string{blueAdminDSN, greenAdminDSN, plainAdminDSN} {
		u, err := url.Parse(dsn)
		if err != nil || u.User == nil {
			continue
		}
		pw, ok := u.User.Password()
		if !ok || pw == "" {
			continue
		}
		pats = append(pats, ":"+pw+"@", pw+"@"+u.Hostname(), "password="+pw, "password: "+pw, `"password":"`+pw)
	}
	return pats
}

// withDB returns dsn pointing at database db.
func withDB(dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(fmt.Sprintf("bad test DSN: %v", err))
	}
	u.Path = "/" + db
	return u.String()
}

// withPassword returns dsn with its password replaced.
func withPassword(dsn, pw string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(fmt.Sprintf("bad test DSN: %v", err))
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String()
}

// withHost returns dsn pointing at host:port.
func withHost(dsn, hostport string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(fmt.Sprintf("bad test DSN: %v", err))
	}
	u.Host = hostport
	return u.String()
}

// requireIntegration skips the test under -short and when the databases
// are unreachable (fails instead when CI is set).
func requireIntegration(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test (skipped with -short)")
	}
	if err := reachable(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("test databases unreachable (CI is set): %v; run `bash scripts/env.sh up`", err)
		}
		t.Skipf("test databases unreachable: %v; run `bash scripts/env.sh up`", err)
	}
}

var (
	reachOnce sync.Once
	reachErr  error
)

func reachable() error {
	reachOnce.Do(func() {
		for _, dsn := range []string{blueAdminDSN, greenAdminDSN} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			conn, err := pgx.Connect(ctx, dsn)
			if err == nil {
				conn.Close(ctx)
			}
			cancel()
			if err != nil {
				reachErr = fmt.Errorf("%s: %w", redact(dsn), err)
				return
			}
		}
	})
	return reachErr
}

var pwInURL = regexp.MustCompile(`://([^:/@]*):[^@]*@`)

// redact hides a DSN's password for test logs.
func redact(dsn string) string { return pwInURL.ReplaceAllString(dsn, "://$1:xxxxx@") }

// connect opens a connection with session settings that make row text
// deterministic (time zone, date and interval styles, float digits).
func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]string{
		"timezone":           "UTC",
		"datestyle":          "ISO, YMD",
		"intervalstyle":      "postgres",
		"extra_float_digits": "3",
		"bytea_output":       "hex",
		"application_name":   "bgsync-integration-test",
	} {
		cfg.RuntimeParams[k] = v
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// mustConnect is connect that fails the test and closes at cleanup.
func mustConnect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", redact(dsn), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// testDB is one test's pair of databases, it_<name> on blue and green.
type testDB struct {
	Name     string // the database name, also bgsync's config name
	BlueDSN  string
	GreenDSN string
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,30}$`)

// newTestDB creates fresh databases it_<name> on blue and green (after
// removing leftovers of an earlier run: slots, origins, the databases) and
// drops them at cleanup, unless BGSYNC_IT_KEEP is set.
func newTestDB(t *testing.T, name string) *testDB {
	t.Helper()
	db := "it_" + name
	if !validName.MatchString(db) {
		t.Fatalf("bad test database name %q", db)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, admin := range []string{blueAdminDSN, greenAdminDSN} {
		if err := dropTestDB(ctx, admin, db); err != nil {
			t.Fatalf("remove leftovers of %s on %s: %v", db, redact(admin), err)
		}
		if err := execAdmin(ctx, admin, "CREATE DATABASE "+db); err != nil {
			t.Fatalf("create database %s on %s: %v", db, redact(admin), err)
		}
	}
	t.Cleanup(func() {
		if os.Getenv("BGSYNC_IT_KEEP") != "" {
			t.Logf("BGSYNC_IT_KEEP set: keeping database %s on blue and green", db)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, admin := range []string{blueAdminDSN, greenAdminDSN} {
			if err := dropTestDB(ctx, admin, db); err != nil {
				t.Logf("cleanup of %s on %s: %v", db, redact(admin), err)
			}
		}
	})
	return &testDB{Name: db, BlueDSN: withDB(blueAdminDSN, db), GreenDSN: withDB(greenAdminDSN, db)}
}

// dropTestDB removes database db from the cluster of admin together with
// the replication slots and origins named after it.
func dropTestDB(ctx context.Context, admin, db string) error {
	conn, err := connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	// An active slot (a walsender of a killed bgsync that has not noticed
	// yet) cannot be dropped, nor can a database that still has slots: end
	// the walsenders, drop the slots, until none is left.
	err = retry(ctx, func() error {
		const match = `(starts_with(slot_name, $1) OR database = $1)`
		if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
			WHERE active_pid IS NOT NULL AND `+match, db); err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
			WHERE NOT active AND `+match, db); err != nil {
			return err
		}
		var left []string
		rows, err := conn.Query(ctx, `SELECT slot_name::text FROM pg_replication_slots WHERE `+match, db)
		if err != nil {
			return err
		}
		if left, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		if len(left) > 0 {
			return fmt.Errorf("replication slots still present: %v", left)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE starts_with(roname, $1)`, db)
	return err
}

// retry runs f until it succeeds or 10 s have passed (a slot whose
// walsender was just terminated stays active for a moment).
func retry(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// execAdmin runs one statement on a fresh connection.
func execAdmin(ctx context.Context, dsn, sql string, args ...any) error {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// queryInt runs a query returning one integer on a fresh connection.
func queryInt(ctx context.Context, dsn, sql string, args ...any) (int64, error) {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// queryStrings runs a query returning one text column.
func queryStrings(ctx context.Context, conn *pgx.Conn, sql string, args ...any) ([]string, error) {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// slotsNamed lists the replication slots on blue whose name starts with
// prefix.
func slotsNamed(t *testing.T, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := mustConnect(t, blueAdminDSN)
	s, err := queryStrings(ctx, conn, `SELECT slot_name::text FROM pg_replication_slots WHERE starts_with(slot_name, $1) ORDER BY 1`, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// greenSchemas lists the non-system schemas of the test's green database.
func schemasOf(t *testing.T, dsn string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := mustConnect(t, dsn)
	s, err := queryStrings(ctx, conn, `SELECT nspname::text FROM pg_namespace
		WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// publications lists the publications of database dsn.
func publications(t *testing.T, dsn string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := mustConnect(t, dsn)
	s, err := queryStrings(ctx, conn, `SELECT pubname::text FROM pg_publication ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pgCtlGreen runs pg_ctlcluster on the green cluster (root only).
func pgCtlGreen(t *testing.T, action string, extra ...string) {
	t.Helper()
	version, name, _ := strings.Cut(greenCluster, "/")
	args := append([]string{"--skip-systemctl-redirect", version, name, action}, extra...)
	out, err := exec.Command("pg_ctlcluster", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_ctlcluster %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("pg_ctlcluster %s: ok %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
}

// waitConnectable polls dsn until it accepts connections or timeout.
func waitConnectable(ctx context.Context, dsn string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := queryInt(ctx, dsn, "SELECT 1")
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not reachable within %s: %w", redact(dsn), timeout, err)
		case <-tick.C:
		}
	}
}
