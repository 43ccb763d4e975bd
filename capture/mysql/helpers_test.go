package mysql_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	capmy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/testenv"
	driver "github.com/go-sql-driver/mysql"
)

func TestMain(m *testing.M) {
	// A local zone far from UTC: any DATETIME or TIMESTAMP decoded through
	// it would come out shifted.
	time.Local = time.FixedZone("test+05:30", 5*3600+1800)
	os.Exit(m.Run())
}

var serverIDs atomic.Uint32

// serverID is unique per reader: the source drops an older replica
// connection when a new one registers with the same server_id.
func serverID() uint32 {
	return 100_000 + uint32(os.Getpid()%20_000)*100 + serverIDs.Add(1)
}

// testDB is a fresh database and a one-connection handle on it, so that
// session settings stick.
type testDB struct {
	dsn  string
	name string
	db   *sql.DB
}

func newTestDB(t testing.TB) *testDB {
	t.Helper()
	dsn := testenv.NewMySQLDatabase(t, testenv.MyBlueDSN())
	cfg, err := driver.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := testenv.OpenMySQL(t, dsn)
	db.SetMaxOpenConns(1)
	return &testDB{dsn: dsn, name: cfg.DBName, db: db}
}

func (d *testDB) table(name string) change.Table { return change.Table{Schema: d.name, Name: name} }

func (d *testDB) exec(t testing.TB, sqls ...string) {
	t.Helper()
	testenv.ExecMySQL(t, d.db, sqls...)
}

// tables is a Config.Tables of the named tables of d.
func (d *testDB) tables(names ...string) map[change.Table]bool {
	m := map[change.Table]bool{}
	for _, n := range names {
		m[d.table(n)] = true
	}
	return m
}

// running is a capture whose Run goes on in the background.
type running struct {
	c      *capmy.Capture
	out    chan *change.Txn
	cancel context.CancelFunc
	done   chan error
}

// start runs a capture; tweak edits its config; ack, when non-zero, is
// acknowledged before Run.
func start(t testing.TB, d *testDB, ack change.Position, tweak func(*capmy.Config), tables ...string) *running {
	t.Helper()
	cfg := capmy.Config{DSN: d.dsn, ServerID: serverID(), Tables: d.tables(tables...)}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := capmy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Ack(ack)
	return run(t, c)
}

func run(t testing.TB, c *capmy.Capture) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, out: make(chan *change.Txn, 1000), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx, r.out) }()
	t.Cleanup(func() { r.stop(t) })
	// Run reads the server's position first: wait until the syncer has
	// it, so that writes made after start are after the start position.
	waitStarted(t, r)
	return r
}

// waitStarted polls until Run has read its start position and started
// streaming (or ended).
func waitStarted(t testing.TB, r *running) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if capmy.Started(r.c) || len(r.done) > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("capture did not start within 10s")
}

// stop cancels Run and returns its error (nil for a clean stop).
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // stop may be called again (cleanup)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20s of cancel")
	}
	return nil
}

// next waits for the next transaction.
func (r *running) next(t testing.TB) *change.Txn {
	t.Helper()
	select {
	case txn := <-r.out:
		return txn
	case err := <-r.done:
		r.done <- err
		// Run sends before it returns: what it sent is in r.out by now.
		select {
		case txn := <-r.out:
			return txn
		default:
		}
		t.Fatalf("Run ended: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no transaction within 20s")
	}
	return nil
}

// fail waits for Run to end with an error.
func (r *running) fail(t testing.TB) error {
	t.Helper()
	select {
	case txn := <-r.out:
		t.Fatalf("got a transaction at %d (%d changes), want Run to fail", txn.Position, len(txn.Changes))
	case err := <-r.done:
		r.done <- err
		if err == nil {
			t.Fatal("Run returned nil")
		}
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not fail within 20s")
	}
	return nil
}
