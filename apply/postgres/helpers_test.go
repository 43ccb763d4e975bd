package postgres_test

import (
	"context"
	"errors"
	"testing"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/internal/testenv"
	"github.com/jackc/pgx/v5"
)

func asApplyError(err error, target **applypg.ApplyError) bool { return errors.As(err, target) }

// conflictTarget is a fresh green database with the items table and an
// applier of blue's changes tagged with a replication origin, under rule.
// It skips when the green test cluster does not track commit timestamps,
// which conflict decisions need.
func conflictTarget(t *testing.T, rule conflict.Rule) (dsn string, db *pgx.Conn, a *applypg.Applier) {
	t.Helper()
	dsn = testenv.NewDatabase(t, testenv.GreenDSN())
	db = testenv.Connect(t, dsn)
	ctx := context.Background()
	var on string
	if err := db.QueryRow(ctx, `SHOW track_commit_timestamp`).Scan(&on); err != nil || on != "on" {
		t.Skipf("track_commit_timestamp is %q (%v) on the green test cluster", on, err)
	}
	testenv.Exec(t, db, `CREATE TABLE items (id int PRIMARY KEY, big text, n int)`)
	a, err := applypg.Open(ctx, applypg.Config{DSN: dsn, Schema: "bgsync", Direction: "blue-to-green",
		From: conflict.Blue, Origin: "bgsync_test_blue", DefaultRule: rule})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return dsn, db, a
}
