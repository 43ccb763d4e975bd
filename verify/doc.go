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
//     (COPY of a key range on PostgreSQL, a SELECT on MariaDB/MySQL),
//     under a statement timeout.
//   - A row's identity is its primary key's text; its content is the text
//     PostgreSQL prints for every column (same session settings on both
//     sides: UTC, ISO dates, hex bytea, extra_float_digits 3), or for
//     other engines the text below (Engines), hashed with
//     xxhash. A chunk whose row count and hash sum agree on both sides is
//     matched whole; otherwise its rows are compared by key: missing on
//     green, missing on blue, or different.
//   - While a sync runs, a difference may be a change still in flight.
//     Right after a chunk is read, the source positions of the directions
//     are noted; rows that differed are read again once each direction
//     has applied past those positions (Options.Slots, Options.Checkpoints;
//     see settle.go), up to three times. A row is "in flight" when a re-read finds green holding blue's
//     row as it is now or as it was at the previous read (blue may have
//     moved on meanwhile); a row that fails that in every re-read is
//     divergent (missing or different). If the sync does
//     not get there within Options.SettleTimeout, the report says so
//     (Report.Unsettled) and the rows are left as found.
//   - Options.Mappings gives each table's blue-to-green transform (by blue
//     table). A table without one, or with an identity mapping and the same
//     columns on both sides, is compared as printed (above), at no extra
//     cost (with a MariaDB/MySQL side: as below, Engines). Any other table
//     is compared through its mapping, on every engine pair: blue is read
//     under its names, green under green's table, key and column names;
//     chunks are still cut by blue's key ranges. Each side's row is decoded
//     into the values that side's capture gives it — PostgreSQL's text by
//     type OID (transform.DecodeRow), MariaDB/MySQL's as capture/mysql
//     decodes the same row from the binlog (capture/mysql.TextTable:
//     FLOAT/DOUBLE read as DOUBLE, UUID/INET6 as their 16 bytes, TINYINT(1)
//     as an integer, MariaDB's JSON as text) — so the mapping sees what the
//     running pipeline feeds it, and its output is in the kinds green's own
//     capture gives green's columns. Each blue row is mapped and rendered
//     as transform.Canonical of the key and of every column the mapping
//     fills (Mapping.Columns); each green row as the same of the same
//     columns, after two declared normalisations by green's column, on
//     both sides: CHAR(n)/character(n) drops trailing spaces, and
//     MariaDB's JSON alias (longtext) is compared as JSON. Those lines are hashed and
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
//   - Engines (Options.BlueEngine, GreenEngine): each side is read through
//     a side of its engine (side_pg.go: COPY; side_mysql.go: the text
//     protocol, session time_zone '+00:00', utf8mb4, values as printed).
//     Two MariaDB/MySQL sides of one engine whose columns agree in
//     COLUMN_TYPE and collation are compared as printed, like two
//     PostgreSQL sides. Any other pair is compared by canonical value:
//     each side's value is decoded (PostgreSQL: pgtext by type OID;
//     MariaDB/MySQL: apply/mysql.Decode, reading each column as the Kind
//     of the PostgreSQL column's type, or of blue's column type between
//     two MariaDB/MySQL sides) and rendered as transform.Canonical. The
//     rules, each tested in canonical_test.go:
//   - NULL is a field no value renders as (\N): NULL equals only NULL,
//     and an empty text is not NULL.
//   - Decimals by value: DECIMAL(12,2) 12.50 equals numeric 12.5 and
//     numeric(12,2) 12.50; each side prints at its declared scale and
//     Canonical drops the zeros the scale adds (negative numbers, zero
//     scale and the sign of zero included: -0.00 is 0).
//   - Integers by value, whatever their width or signedness: INT
//     UNSIGNED equals bigint; BIGINT UNSIGNED's maximum equals a numeric
//     holding it. TINYINT(1) 0/1 equals boolean false/true (any other
//     TINYINT value differs from every boolean).
//   - Date and time values to the microsecond. A DATETIME compared with
//     a timestamptz is read as a UTC instant (as bgsync writes it), with
//     a timestamp as wall time; a TIMESTAMP is printed in UTC by the
//     session. Years 0001 to 9999 compare alike.
//   - JSON by value: keys sorted, one layout (jsonb's), numbers as
//     written; JSON text in a text column equals JSON in a json column.
//   - Text by bytes after one declared normalisation: CHAR(n) and
//     character(n) columns drop trailing spaces on both sides (MariaDB
//     strips them when it prints, PostgreSQL pads). Otherwise no case,
//     Unicode or whitespace folding: utf8mb4 4-byte characters compare
//     as their UTF-8 bytes.
//   - Bytes by bytes, NUL bytes included (BLOB equals bytea).
//   - A value that does not decode (a MariaDB zero date) makes the row
//     different; its sample's error names the side and column.
//   - Key ranges must select the same rows on both sides (keyrange.go):
//     chunks are cut by blue's key order when both sides order the keys
//     alike: same-engine pairs of identical key types, and any pair whose
//     key columns are all integers. Any other table (text keys on a mixed
//     pair: collations never agree across engines; MariaDB's utf8mb4_bin
//     is PAD SPACE) is read as one chunk per side.
//   - Settling with a MariaDB/MySQL source (Options.Checkpoints): the
//     position noted is the source's binlog position in the form its
//     capture uses (Options.BinlogForms): SHOW MASTER STATUS as a file
//     position, or the domain's entry of gtid_binlog_pos as a GTID
//     position (capture/mysql.CurrentPositionIn); it is settled once the target's checkpoint row for the
//     direction (bgsync's checkpoints table in Options.Schema, written in
//     the same transaction as the rows it applied) holds a
//     source_position at or beyond it. PostgreSQL sources wait on their
//     slot (Options.Slots), as before.
//   - A mapped table's key ranges follow keyrange.go with green's key
//     columns in place of blue's names: on a pair with a MariaDB/MySQL
//     side it is cut into chunks only when each key column is an integer
//     on both sides (or of one type and collation on two MariaDB/MySQL
//     sides), else read as one chunk per side. Its key texts are
//     canonical; a MariaDB/MySQL side turns them back into literals by
//     its key columns' kinds (rawOfCanonical).
//   - Options.Skip names tables not to compare, with the reason.
package verify
