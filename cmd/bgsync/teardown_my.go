package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	applymy "github.com/bgsync/bgsync/apply/mysql"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/go-sql-driver/mysql"
)

// captureTables are the tables setup creates in bgsync's database on a
// MariaDB/MySQL source (captureStartSQL), besides apply/mysql's own.
var captureTables = []string{"capture_start", "heartbeats"}

// teardownMy removes what setup and run created on a MariaDB/MySQL side:
// the tombstone and column-write triggers on synced tables and bgsync's
// tables in the database named like the config (both by
// applymy.DropSchema), and the database when nothing of the application's
// is in it.
func (a *app) teardownMy(ctx context.Context, side config.Side) (string, error) {
	db, err := a.openMy(ctx, side)
	if err != nil {
		return "", err
	}
	defer db.Close()
	dropped, err := applymy.DropSchema(ctx, db, a.cfg.Name, captureTables...)
	if err != nil {
		return "", fmt.Errorf("%s: %s", side, scrubAll(err.Error()))
	}
	if dropped {
		return fmt.Sprintf("%s: database %s dropped", side, a.cfg.Name), nil
	}
	return fmt.Sprintf("%s: bgsync's tables in database %s dropped (the database holds other objects, or was absent)", side, a.cfg.Name), nil
}

// readerGone is how long teardown waits for a binlog reader that is still
// registered to go: a reader that stopped is dropped by the server within
// capture/mysql's 2 s heartbeat period.
const readerGone = 6 * time.Second

// binlogReaders refuses teardown while a binlog reader of this config is
// connected to a MariaDB/MySQL side: a replica registered with the
// server_id bgsync run's capture uses there (readerID). Readers still
// registered are waited for up to readerGone.
func (a *app) binlogReaders(ctx context.Context) error {
	dbs := map[config.Side]*sql.DB{}
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	var errs []error
	for _, side := range []config.Side{config.Blue, config.Green} {
		if !a.binlog(side) {
			continue
		}
		db, err := a.openMy(ctx, side)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		dbs[side] = db
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	deadline := time.Now().Add(readerGone)
	for {
		var connected []config.Side
		for _, side := range []config.Side{config.Blue, config.Green} {
			if dbs[side] == nil {
				continue
			}
			found, err := registeredReplica(ctx, dbs[side], a.readerID(side))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: cannot tell whether bgsync run still reads the binlog: %s "+
					"(SHOW SLAVE HOSTS needs REPLICATION MASTER ADMIN on MariaDB, REPLICATION SLAVE on MySQL)", side, scrubAll(err.Error())))
			} else if found {
				connected = append(connected, side)
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		if len(connected) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			for _, side := range connected {
				errs = append(errs, fmt.Errorf("%s: bgsync run is reading the binlog (a replica with server_id %d is connected); stop bgsync run first",
					side, a.readerID(side)))
			}
			return errors.Join(errs...)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// registeredReplica reports whether a replica with server_id id is
// registered on db (SHOW SLAVE HOSTS: MariaDB and MySQL alike).
func registeredReplica(ctx context.Context, db *sql.DB, id uint32) (bool, error) {
	rows, err := db.QueryContext(ctx, "SHOW SLAVE HOSTS")
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1227 {
		return ownBinlogReader(ctx, db)
	}
	if err != nil {
		return false, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return false, err
	}
	at := slices.IndexFunc(cols, func(c string) bool { return strings.EqualFold(c, "Server_id") })
	if at < 0 {
		return false, fmt.Errorf("SHOW SLAVE HOSTS has no Server_id column (%s)", strings.Join(cols, ", "))
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	want := strconv.FormatUint(uint64(id), 10)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return false, err
		}
		if string(vals[at]) == want {
			return true, nil
		}
	}
	return false, rows.Err()
}

// ownBinlogReader is registeredReplica for a user without the privilege
// SHOW SLAVE HOSTS needs: whether a binlog dump thread of this same user
// is connected. Without PROCESS a user sees only its own threads in
// PROCESSLIST, which is enough when bgsync run connects as the same user
// (the usual case); a run connecting as another user is not seen.
func ownBinlogReader(ctx context.Context, db *sql.DB) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.PROCESSLIST
WHERE COMMAND LIKE 'Binlog Dump%' AND USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)`).Scan(&n)
	return n > 0, err
}
