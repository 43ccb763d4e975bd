package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"

	capturemy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/go-sql-driver/mysql"
)

// binlog reports whether side is MariaDB or MySQL.
func (a *app) binlog(side config.Side) bool { return a.cfg.EngineOf(side).Binlog() }

// anyBinlog reports whether either side is MariaDB or MySQL: such pairs
// take the engine-neutral paths of setup and run.
func (a *app) anyBinlog() bool { return a.binlog(config.Blue) || a.binlog(config.Green) }

// openMy opens and pings side's MariaDB/MySQL, with an error that names
// the side, address and user, never the password.
func (a *app) openMy(ctx context.Context, side config.Side) (*sql.DB, error) {
	mc, err := mysql.ParseDSN(a.dsn[side])
	if err != nil {
		return nil, fmt.Errorf("%s: invalid connection string", side)
	}
	db, err := sql.Open("mysql", a.dsn[side])
	if err != nil {
		return nil, fmt.Errorf("%s: invalid connection string", side)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: cannot connect to %s as %s: %s", side, mc.Addr, mc.User, scrubAll(err.Error()))
	}
	return db, nil
}

// readerID is the replica server_id bgsync's binlog reader on src uses:
// fixed per config name and side, so restarts reuse it, and in a range
// (2^30 and up) that hand-numbered servers rarely use.
func (a *app) readerID(src config.Side) uint32 {
	h := fnv.New32a()
	h.Write([]byte(a.cfg.Name + "/" + string(src)))
	return 1<<30 | h.Sum32()&(1<<30-1)
}

// captureStartTable is where setup records, on a MariaDB/MySQL source, the
// binlog position a direction starts from when its target holds no
// checkpoint yet: changes after setup are never missed, whenever run first
// starts.
func (a *app) captureStartTable() string { return "`" + a.cfg.Name + "`.capture_start" }

// captureStartSQL creates that table, and the heartbeat table.
func (a *app) captureStartSQL() []string {
	return []string{
		"CREATE DATABASE IF NOT EXISTS `" + a.cfg.Name + "`",
		"CREATE TABLE IF NOT EXISTS " + a.captureStartTable() + ` (
	direction     VARCHAR(64) PRIMARY KEY,
	position      BIGINT UNSIGNED NOT NULL,
	position_text VARCHAR(512) NOT NULL,
	recorded_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
)`,
		a.heartbeatTableSQL(),
	}
}

// errNoCaptureStart says setup has not recorded where a direction starts.
var errNoCaptureStart = errors.New("no capture start position recorded")

// captureStart reads the recorded start of direction.
func (a *app) captureStart(ctx context.Context, db *sql.DB, direction string) (change.Position, string, error) {
	var pos uint64
	var text string
	err := db.QueryRowContext(ctx, "SELECT position, position_text FROM "+a.captureStartTable()+" WHERE direction = ?", direction).Scan(&pos, &text)
	if err != nil {
		var me *mysql.MySQLError
		if errors.Is(err, sql.ErrNoRows) || (errors.As(err, &me) && (me.Number == 1146 || me.Number == 1049)) {
			return 0, "", errNoCaptureStart
		}
		return 0, "", err
	}
	return change.Position(pos), text, nil
}

// recordedForm is the form of the positions of the direction from src
// (file offsets or GTIDs), as setup recorded its start; file offsets when
// nothing is recorded (run would refuse to start then anyway).
func (a *app) recordedForm(ctx context.Context, src, dst config.Side) (capturemy.Form, error) {
	db, err := a.openMy(ctx, src)
	if err != nil {
		return capturemy.Form{}, err
	}
	defer db.Close()
	_, text, err := a.captureStart(ctx, db, directionName(src, dst))
	if errors.Is(err, errNoCaptureStart) {
		return capturemy.Form{}, nil
	}
	if err != nil {
		return capturemy.Form{}, fmt.Errorf("%s: read the binlog start position: %w", src, err)
	}
	_, form, err := capturemy.ParsePosition(text)
	if err != nil {
		return capturemy.Form{}, fmt.Errorf("%s: the recorded binlog start position %q: %w", src, text, err)
	}
	return form, nil
}
