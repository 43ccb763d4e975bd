// Package verify compares the synced tables of blue and green row by row
// and says which rows differ, without holding long locks or snapshots on
// either side.
//
// Contract:
//   - Each table is cut into keyset chunks of Options.ChunkRows rows by
//     primary key on blue (the first chunk has no lower bound and the last
//     no upper one, so green's rows outside blue's key range are covered).
//     Chunks of all tables run on Options.Parallel workers, each with one
//     connection per side; every chunk is one short statement per side
//     (COPY of a key range), under a statement timeout.
//   - A row's identity is its primary key's text; its content is the text
//     PostgreSQL prints for every column (same session settings on both
//     sides: UTC, ISO dates, hex bytea, extra_float_digits 3), hashed with
//     xxhash. A chunk whose row count and hash sum agree on both sides is
//     matched whole; otherwise its rows are compared by key: missing on
//     green, missing on blue, or different.
//   - While a sync runs, a difference may be a change still in flight.
//     Right after a chunk is read, the source positions of the directions
//     are noted; rows that differed are read again once each direction's
//     slot has confirmed past those positions (Options.Slots), up to three
//     times. A row is "in flight" when a re-read finds green holding blue's
//     row as it is now or as it was at the previous read (blue may have
//     moved on meanwhile); a row that fails that in every re-read is
//     divergent (missing or different). If the sync does
//     not get there within Options.SettleTimeout, the report says so
//     (Report.Unsettled) and the rows are left as found.
//   - Tables whose column names differ between the sides are not compared;
//     the report names the columns (Table.Error).
//   - Both sides must be PostgreSQL and the tables of the same shape:
//     transforms between schema versions are not applied yet.
package verify
