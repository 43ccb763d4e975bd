package main

import (
	"fmt"
	"io"
	"log/slog"
	"sync"

	capturemy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/conflict"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/internal/logging"
	"github.com/bgsync/bgsync/internal/snapshot"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// app is what every command needs: the config, resolved DSNs, a logger.
type app struct {
	cfg *config.Config
	dsn map[config.Side]string
	log *slog.Logger
	// binlogForm is the form of each MariaDB/MySQL source's positions
	// (file offsets in binlogs named "mysql-bin", or GTIDs of one domain),
	// learnt by run's preflight from setup's recorded start.
	binlogForm map[config.Side]capturemy.Form
	// acceptDDL is run's --accept-schema-change: binlog sources pass
	// schema changes at or below it.
	acceptDDL change.Position
	// snapProgress is run's initial copy (snapshot.initial_load: auto),
	// for /metrics and /v1/status; nil when run makes none.
	snapProgress *snapshot.Progress
}

var (
	scrubMu  sync.Mutex
	scrubber = logging.NewScrubber(nil)
)

// scrubAll removes every known password from text printed at exit.
func scrubAll(s string) string {
	scrubMu.Lock()
	defer scrubMu.Unlock()
	return scrubber.Scrub(s)
}

// load reads and validates the config, resolves the DSNs of the sides the
// directions use, and builds the logger.
func load(path string, stderr io.Writer) (*app, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, dsn: map[config.Side]string{}, binlogForm: map[config.Side]capturemy.Form{}}
	var secrets []string
	for _, side := range []config.Side{config.Blue, config.Green} {
		dsn, err := cfg.DSNFor(side)
		if err != nil {
			return nil, withCode(exitUsage, fmt.Errorf("%s: %w", side, err))
		}
		a.dsn[side] = dsn
		if pw := dsnPassword(cfg.EngineOf(side), dsn); pw != "" {
			secrets = append(secrets, pw)
		}
	}
	scrubMu.Lock()
	scrubber = logging.NewScrubber(secrets)
	scrubMu.Unlock()
	a.log, err = logging.New(stderr, cfg.Log.Format, cfg.Log.Level, secrets)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	return a, nil
}

// dsnPassword is the password in dsn, "" if none or unparsable.
func dsnPassword(engine config.Engine, dsn string) string {
	if engine.Binlog() {
		if mc, err := mysql.ParseDSN(dsn); err == nil {
			return mc.Passwd
		}
		return ""
	}
	if pc, err := pgconn.ParseConfig(dsn); err == nil {
		return pc.Password
	}
	return ""
}

// sides returns (source, target) pairs of the enabled directions.
func (a *app) directions() [][2]config.Side {
	var out [][2]config.Side
	for _, s := range []config.Side{config.Blue, config.Green} {
		if a.cfg.Directions.From(s) {
			out = append(out, [2]config.Side{s, s.Other()})
		}
	}
	return out
}

func directionName(src, dst config.Side) string { return string(src) + "-to-" + string(dst) }

// originName is the replication origin of the applier writing src's changes;
// captures skip every origin starting with originPrefix.
func (a *app) originName(src config.Side) string {
	return a.originPrefix() + "from_" + string(src)
}

func (a *app) originPrefix() string { return a.cfg.Name + "_" }

func conflictSide(s config.Side) conflict.Side {
	if s == config.Blue {
		return conflict.Blue
	}
	return conflict.Green
}
