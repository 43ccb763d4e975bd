package main

import (
	"context"
	"database/sql"

	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/internal/pipeline"
)

// myBeater writes heartbeats into a MariaDB/MySQL source's
// <name>.heartbeats, one row per side, without skip_replication, so each
// beat travels the binlog and the whole pipeline like an application row.
type myBeater struct {
	db   *sql.DB
	sql  string
	side string
}

func (b *myBeater) Beat(ctx context.Context, seq int64) error {
	_, err := b.db.ExecContext(ctx, b.sql, b.side, seq)
	return err
}

func (b *myBeater) Close(context.Context) error { return b.db.Close() }

// heartbeatTableSQL creates the heartbeat table on a MariaDB/MySQL source
// (bgsync's database exists by then).
func (a *app) heartbeatTableSQL() string {
	return "CREATE TABLE IF NOT EXISTS `" + a.cfg.Name + "`.heartbeats (" + `
	side    VARCHAR(16) PRIMARY KEY,
	seq     BIGINT NOT NULL,
	sent_at DATETIME(6) NOT NULL
)`
}

// openMyBeater opens src's heartbeat writer.
func (a *app) openMyBeater(src config.Side) func(ctx context.Context) (pipeline.Beater, error) {
	return func(ctx context.Context) (pipeline.Beater, error) {
		db, err := a.openMy(ctx, src)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		return &myBeater{db: db, side: string(src),
			sql: "INSERT INTO `" + a.cfg.Name + "`.heartbeats (side, seq, sent_at) VALUES (?, ?, UTC_TIMESTAMP(6)) " +
				"ON DUPLICATE KEY UPDATE seq = VALUES(seq), sent_at = VALUES(sent_at)"}, nil
	}
}
