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
//   - Options.Mappings gives each table's blue-to-green transform (by blue
//     table). A table without one, or with an identity mapping and the same
//     columns on both sides, is compared as printed (above), at no extra
//     cost. Any other table is compared through its mapping: blue is read
//     under its names, green under green's table, key and column names;
//     chunks are still cut by blue's key ranges. Each blue row is decoded
//     (transform.DecodeRow), mapped, and rendered as transform.Canonical of
//     the key and of every column the mapping fills (Mapping.Columns); each
//     green row as the same of the same columns. Those lines are hashed and
//     compared as above, so 12.5 equals 12.50, integer equals bigint, JSON
//     key order and spacing do not matter, and NULL equals only NULL.
//     Green columns the mapping does not fill are not compared; differing
//     columns are named as on green; Table.Green names green's table when
//     it differs. A row the mapping (or decoding) fails on is a difference
//     whose sample carries the error (Sample.Error), never skipped.
//   - A mapped table's key columns must be copied one to one (a rename or a
//     copy between types whose values print alike, integer → bigint).
//     Each blue key column must fill exactly one green key column, else
//     the table is not compared (Table.Error); so must a table whose first
//     blue row's key changes once mapped (a key computed by an
//     expression). Any other row whose key changes is different, with the
//     error.
//   - Without a mapping, tables whose column names differ between the
//     sides are not compared; the report names the columns (Table.Error).
//   - Both sides must be PostgreSQL.
package verify
