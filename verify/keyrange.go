package verify

import (
	"github.com/bgsync/bgsync/transform"
	"github.com/jackc/pgx/v5/pgtype"
)

// Key ranges. Chunks are cut by blue's primary key order and each chunk
// is read on both sides by "key > lo AND key <= hi", so both sides must
// order keys alike, or a row would fall in one chunk on blue and another
// on green. That holds:
//   - between two PostgreSQL sides (the same key types and collations;
//     loadSame checks the columns);
//   - between two MariaDB/MySQL sides whose key columns have the same
//     type and collation: a PAD SPACE collation compares 'a' and 'a '
//     alike on both sides, a case-insensitive one 'A' and 'a';
//   - on any pair, for keys whose columns are all integers on both sides
//     (natural order, the same literals).
// Any other key on a pair of different engines (text, whose collations
// never agree across engines: utf8mb4_bin is PAD SPACE, so it orders
// 'a\t' before 'a' where PostgreSQL's "C" orders it after; dates,
// decimals, bytes, UUIDs, whose literals differ) is not cut: the table
// is read as one chunk on each side (one statement per side, under the
// statement timeout), which compares it correctly at the cost of one
// long read and, when it differs, its keys held in memory.

// sameKeyOrder reports whether blue's key ranges select the same rows on
// green: pg[i] are side i's PostgreSQL columns, nil for MariaDB/MySQL.
func sameKeyOrder(b, g *shape, pg [2][]transform.Column) bool {
	if b.my != nil && g.my != nil {
		same := true
		for _, k := range b.key {
			if b.my.types[k] != g.my.types[k] {
				same = false
			}
		}
		if same {
			return true
		}
	}
	for _, k := range b.key {
		for i, s := range []*shape{b, g} {
			if !integerColumn(s, pg[i], k) {
				return false
			}
		}
	}
	return true
}

// integerColumn: column name of side s is an integer type.
func integerColumn(s *shape, pg []transform.Column, name string) bool {
	if s.my != nil {
		switch s.my.cols[name].DataType {
		case "tinyint", "smallint", "mediumint", "int", "bigint":
			return true
		}
		return false
	}
	for _, c := range pg {
		if c.Name == name {
			return c.OID == pgtype.Int2OID || c.OID == pgtype.Int4OID || c.OID == pgtype.Int8OID
		}
	}
	return false
}
