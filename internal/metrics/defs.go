package metrics

import "github.com/prometheus/client_golang/prometheus"

// Every bgsync metric: name, help and variable labels. Add new metrics
// here (gauges and counters read from snapshots as descriptors below;
// instrumented histograms as their Opts) so the names stay in one place.
var (
	descReplicationLag = newDesc("bgsync_replication_lag_seconds",
		"Heartbeat lag: age of the oldest heartbeat written into the source and not yet committed on the target, "+
			"or the last heartbeat's write-to-commit time when none is in flight (one clock: the bgsync host's).",
		"direction")
	descCaptureLag = newDesc("bgsync_capture_lag_seconds",
		"Source commit to capture of the last transaction read (source host's clock against the bgsync host's).",
		"direction")
	descRetainedBytes = newDesc("bgsync_source_retained_bytes",
		"WAL the source keeps on disk for the direction's replication slot (current WAL position minus the slot's restart_lsn).",
		"direction")
	descHeartbeats = newDesc("bgsync_heartbeats_total",
		"Heartbeats that arrived on the target.",
		"direction")
	descLastAppliedCommit = newDesc("bgsync_last_applied_commit_timestamp_seconds",
		"Source commit time of the last applied transaction, heartbeats included (so it advances while the application is idle), as a Unix timestamp. Absent until one has been applied.",
		"direction")
	descTxnsCaptured = newDesc("bgsync_transactions_captured_total",
		"Source transactions captured and written to Kafka.",
		"direction")
	descRowsCaptured = newDesc("bgsync_rows_captured_total",
		"Row changes captured and written to Kafka.",
		"direction")
	descTxnsApplied = newDesc("bgsync_transactions_applied_total",
		"Source transactions applied to the target.",
		"direction")
	descEventsApplied = newDesc("bgsync_events_applied_total",
		"Row changes applied to the target, by operation (insert, update, delete, truncate).",
		"direction", "op")
	descEventsSkipped = newDesc("bgsync_events_skipped_total",
		"Changes not applied, by reason: echo (transactions bgsync itself wrote, dropped at capture) and "+
			"already_applied (replayed transactions at or below the target's checkpoint) count transactions; "+
			"row_missing (updates and deletes that found no target row) counts rows.",
		"direction", "reason")
	descConflicts = newDesc("bgsync_conflicts_total",
		"Conflicts detected by the applier, by kind and resolution.",
		"direction", "kind", "resolution")
	descDirectionUp = newDesc("bgsync_direction_up",
		"1 while the direction is running; 0 while it is starting, retrying after an error, draining for shutdown, or stopped.",
		"direction")
	descDirectionRestarts = newDesc("bgsync_direction_restarts_total",
		"Restarts of the direction after an error.",
		"direction")
	descUnresolved = newDesc("bgsync_unresolved_conflicts",
		"Conflicts of the direction still unresolved on its target (manual policy), until bgsync conflicts resolve settles them.",
		"direction")
	descDirectionPaused = newDesc("bgsync_direction_paused",
		"1 while the direction is paused at a row its transform cannot map (the log and /v1/status name it), else 0.",
		"direction")
	descTransformErrors = newDesc("bgsync_transform_errors_total",
		"Rows a transform could not map on a table that pauses on errors; each paused the direction.",
		"direction")
	descDeadLettered = newDesc("bgsync_dead_lettered_total",
		"Rows a transform could not map, set aside in the dead_letters table and topic (tables with on_error: dead-letter).",
		"direction")
	descDeadLetters = newDesc("bgsync_dead_letters_pending",
		"Rows of the direction in the target's dead_letters table not yet marked handled; the gates fail while it is above 0.",
		"direction")
	descApplyRetries = newDesc("bgsync_apply_retries_total",
		"Target transactions rolled back and applied again after losing a race with the application (unique key, deadlock).",
		"direction")
	descEventsCaptured = newDesc("bgsync_events_captured_total",
		"Row changes captured and written to Kafka, by operation (insert, update, delete, truncate).",
		"direction", "op")
	descApplyErrors = newDesc("bgsync_apply_errors_total",
		"Target transactions that failed after any in-place retries; each restarts the direction.",
		"direction")
	descApplyDuration = newDesc("bgsync_apply_batch_duration_seconds",
		"Time each target transaction took: read the current rows, resolve, write, commit.",
		"direction")
	descGateSafe = newDesc("bgsync_gate_safe",
		"1 when the gate (cutover, rollback) would pass now, else 0 (FAIL or PENDING); see /v1/gate/<gate> for why.",
		"gate")
	descVerifyLastSuccess = newDesc("bgsync_verify_last_success_timestamp_seconds",
		"When the last bgsync verify that found blue and green consistent finished, as a Unix timestamp. Absent until one has.")
	descVerifyRows = newDesc("bgsync_verify_rows",
		"Rows of each table in the newest bgsync verify run, by class: matched, missing_on_green, missing_on_blue, different, in_flight.",
		"table", "class")
	descBuildInfo = newDesc("bgsync_build_info",
		"The running bgsync build; always 1.",
		"version", "goversion")
)

// snapshotDescs lists every descriptor the snapshot collector may emit.
var snapshotDescs = []*prometheus.Desc{
	descReplicationLag, descLastAppliedCommit, descCaptureLag, descRetainedBytes, descHeartbeats,
	descTxnsCaptured, descRowsCaptured, descTxnsApplied,
	descEventsApplied, descEventsSkipped, descConflicts,
	descDirectionUp, descDirectionRestarts, descApplyRetries, descUnresolved,
	descDirectionPaused, descTransformErrors, descDeadLettered, descDeadLetters,
	descEventsCaptured, descApplyErrors, descApplyDuration,
	descBuildInfo,
}

// Label values of bgsync_events_applied_total{op} and
// bgsync_events_skipped_total{reason}.
const (
	opInsert   = "insert"
	opUpdate   = "update"
	opDelete   = "delete"
	opTruncate = "truncate"

	reasonEcho           = "echo"
	reasonAlreadyApplied = "already_applied"
	reasonRowMissing     = "row_missing"
)

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}
