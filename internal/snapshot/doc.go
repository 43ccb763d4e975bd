// Package snapshot copies the rows of the synced tables from a source to a
// PostgreSQL target, consistently with the source position streaming
// starts from, so a direction can begin on a live database that already
// holds data. It is an orchestrator, like internal/pipeline: it drives a
// source's consistent views (declared here as Source/View, implemented by
// capture/postgres and capture/mysql), transform mappings, and
// apply/postgres's snapshot tables and ChunkWriter.
//
// Contract:
//   - A View reads every row as of its Position: every transaction at or
//     below it is visible, none above it. On PostgreSQL all views share one
//     exported snapshot; on MariaDB each has its own position.
//   - Run plans a new copy (tables cut into primary-key ranges under the
//     first view; target tables that hold rows fail, are truncated, or are
//     merged, per Config.TargetNotEmpty, all in the transaction recording
//     the plan), or continues an unfinished one: ranges already done are
//     never copied again.
//   - A range's rows and its done mark (with the Position of the view it was
//     read under) commit in one target transaction, tagged with a
//     replication origin under OriginPrefix so the other direction's capture
//     drops it. Rows are written in the target's shape: COPY text passed
//     through when the table needs no mapping, else mapped row by row; a
//     row that cannot be mapped fails the copy naming table, key and column
//     (the copy never skips a row).
//   - When every range is done, Run sets the direction's checkpoint to the
//     lowest range Position. The applier applies changes up to the highest
//     range Position idempotently (apply/postgres ruleFor): some ranges
//     already hold them. Without a restart on PostgreSQL both are equal.
//   - ErrStreaming: the direction has a checkpoint and no unfinished copy;
//     ErrFinished: its copy is done; *NotEmptyError under ModeFail.
//   - Workers share one rate limit; Progress reports per-table ranges and
//     rows for the display, /metrics and /v1/status.
package snapshot
