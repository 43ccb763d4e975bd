package mysql

import (
	"strings"

	"github.com/bgsync/bgsync/change"
)

// MarkerTableName is the table in bgsync's database that each target
// transaction writes when the marker is on (see IsMarker).
const MarkerTableName = "apply_marker"

// SchemaSQL returns the statements that create bgsync's own database and
// tables on a MySQL or MariaDB target. They are idempotent; setup runs
// them too. Times are DATETIME(6) in UTC (the applier's session runs with
// time_zone '+00:00').
func SchemaSQL(schema string) []string {
	s := quoteIdent(schema)
	return []string{
		"CREATE DATABASE IF NOT EXISTS " + s + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		`CREATE TABLE IF NOT EXISTS ` + s + `.checkpoints (
	direction            VARCHAR(191) NOT NULL PRIMARY KEY,
	source_position      BIGINT UNSIGNED NOT NULL,
	source_position_text VARCHAR(64) NOT NULL,
	source_commit_time   DATETIME(6) NULL,
	kafka_offset         BIGINT NOT NULL DEFAULT -1,
	txns_applied         BIGINT NOT NULL DEFAULT 0,
	updated_at           DATETIME(6) NOT NULL
) ENGINE=InnoDB`,
		`CREATE TABLE IF NOT EXISTS ` + s + `.conflicts (
	id                   BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	detected_at          DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	direction            VARCHAR(191) NOT NULL,
	table_name           VARCHAR(255) NOT NULL,
	` + "`key`" + `                JSON NOT NULL,
	kind                 VARCHAR(32) NOT NULL,
	policy               VARCHAR(255) NOT NULL,
	resolution           VARCHAR(32) NOT NULL,
	reason               TEXT NOT NULL,
	incoming_op          VARCHAR(16) NOT NULL,
	incoming_before      JSON NULL,
	incoming_after       JSON NULL,
	target_row           JSON NULL,
	incoming_commit_time DATETIME(6) NULL,
	target_commit_time   DATETIME(6) NULL,
	source_position      VARCHAR(64) NOT NULL,
	source_xid           BIGINT UNSIGNED NULL,
	resolved             BOOLEAN NOT NULL,
	resolved_at          DATETIME(6) NULL,
	resolved_by          VARCHAR(255) NULL,
	KEY conflicts_unresolved (direction, resolved)
) ENGINE=InnoDB`,
		// The application's deletes, written by the tombstone triggers
		// (tombstone.go).
		tombstoneDDL(s),
		// The application's column writes on column-merge tables, written
		// by the column-write triggers (columns.go).
		columnWritesDDL(s),
		// Rows a transform could not map, from tables with on_error:
		// dead-letter. One per source change: a replay finds it there.
		`CREATE TABLE IF NOT EXISTS ` + s + `.dead_letters (
	id              BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	recorded_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	direction       VARCHAR(191) NOT NULL,
	source_table    VARCHAR(255) NOT NULL,
	target_table    VARCHAR(255) NOT NULL,
	` + "`key`" + `           JSON NOT NULL,
	op              VARCHAR(16) NOT NULL,
	column_name     VARCHAR(255) NOT NULL,
	expression      TEXT NOT NULL,
	error           TEXT NOT NULL,
	source_before   JSON NULL,
	source_after    JSON NULL,
	source_position VARCHAR(64) NOT NULL,
	change_seq      INT UNSIGNED NOT NULL,
	commit_time     DATETIME(6) NULL,
	handled_at      DATETIME(6) NULL,
	UNIQUE KEY dead_letters_change (direction, source_position, change_seq),
	KEY dead_letters_pending (direction, handled_at)
) ENGINE=InnoDB`,
		`CREATE TABLE IF NOT EXISTS ` + s + `.verify_runs (
	id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	started_at  DATETIME(6) NOT NULL,
	finished_at DATETIME(6) NOT NULL,
	status      VARCHAR(32) NOT NULL,
	report      JSON NOT NULL
) ENGINE=InnoDB`,
		// One row per direction, rewritten by every target transaction when
		// the marker is on: a capture on this database drops transactions
		// that carry a change to it (EchoByMarker).
		`CREATE TABLE IF NOT EXISTS ` + s + `.` + MarkerTableName + ` (
	direction       VARCHAR(191) NOT NULL PRIMARY KEY,
	source_position BIGINT UNSIGNED NOT NULL,
	writes          BIGINT UNSIGNED NOT NULL,
	applied_at      DATETIME(6) NOT NULL
) ENGINE=InnoDB`,
	}
}

// quoteIdent quotes a MySQL identifier with backticks.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func quoteTable(t change.Table) string { return quoteIdent(t.Schema) + "." + quoteIdent(t.Name) }
