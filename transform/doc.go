// Package transform maps rows between the schema versions of blue and
// green: table and column renames, columns computed by expressions
// (github.com/expr-lang/expr) over the source row, columns one version does
// not have, and conversions between compatible types.
//
// Contract:
//   - Compile binds one table's Rule for one direction to the live columns
//     of both sides and reports every problem at once (a target column that
//     must be filled and is not, a rename or expression naming a column that
//     does not exist, an expression that does not compile or returns a type
//     the column cannot take, a source column with no place on the target,
//     a key column that cannot be mapped). A Mapping that compiled without
//     problems maps every change of that table.
//   - Map is a pure function of the change: same input, same output. It
//     never panics; a value an expression or conversion cannot handle is a
//     *RowError naming the table, the target column and the expression.
//   - Target columns a Rule does not produce are left out of the mapped
//     change: an update keeps the target's current value, an insert gets the
//     column's default.
//   - Values the source did not send (unchanged TOAST, the non-key columns
//     of a key-only old image) stay unsent: a computed column whose inputs
//     include one is unsent too.
//   - A copy between two columns of the same type and engine is not
//     converted; a Mapping that converts, renames and computes nothing is
//     an Identity, which the pipeline does not run (no cost per row).
//
// MariaDB/MySQL columns (ReadMySQLColumns) are compiled like PostgreSQL
// ones: each Column's Type is the PostgreSQL type of the same value domain
// (PGTypeOf), chosen so that the kind capture/mysql sends is that type's
// kind; Column.MySQL keeps the column's own type, which is what
// apply/mysql writes by and what messages name. Expressions see a
// MariaDB/MySQL column as they would see its PostgreSQL counterpart.
//
//	TINYINT, SMALLINT, YEAR           smallint (SMALLINT UNSIGNED: integer)
//	TINYINT(1), i.e. BOOLEAN          smallint; also copied to and from a
//	                                  boolean (0 → false, 1 → true, any
//	                                  other value is a RowError), and a
//	                                  boolean expression fills it as 0/1
//	MEDIUMINT, INT                    integer (INT UNSIGNED: bigint)
//	BIGINT                            bigint
//	BIGINT UNSIGNED                   numeric(20,0)   (sent as int/uint)
//	DECIMAL(p,s)                      numeric(p,s)
//	FLOAT, DOUBLE                     real, double precision
//	BIT(n)                            bit(n)
//	CHAR(n), VARCHAR(n)               character(n), character varying(n)
//	TEXT types, SET                   text
//	ENUM                              text            (sent as enum)
//	JSON (MySQL)                      json
//	JSON (MariaDB: longtext checked
//	  by json_valid)                  json            (sent as text)
//	BINARY, VARBINARY, BLOB types     bytea
//	DATE                              date
//	TIME(n)                           time(n) without time zone
//	DATETIME(n)                       timestamp(n) without time zone
//	TIMESTAMP(n)                      timestamp(n) with time zone (UTC)
//	anything else                     its own COLUMN_TYPE, copied only to
//	                                  the very same type
//
// Where a column's values arrive in another kind than its Type's (marked
// "sent as" above), a Mapping lifts them into the Type's kind before it
// converts or computes with them, and lowers a value bound for such a
// target column into the kind that column's own capture sends (a boolean
// into a TINYINT(1) becomes 0/1, JSON into MariaDB's JSON text, numeric
// into BIGINT UNSIGNED an int or uint, text into ENUM an enum), so that
// both appliers compare a before image with the row they read like with
// like.
//
// Implicit is the mapping of a table that has no transform, between two
// engines: same table and column names, each value converted to the kind
// the target column's engine gives it (TINYINT(1) ↔ boolean, JSON text ↔
// json/jsonb in its stored form, DATETIME ↔ timestamptz through UTC,
// BIGINT UNSIGNED ↔ numeric, ENUM ↔ text, ...). It never refuses a
// table: types with no conversion pass their value unchanged, as they
// would without a mapping. A value it cannot convert is a *RowError with
// Implicit set, handled like any transform's.
//
// Known limits: a target column narrower than the value (DATETIME(0) for
// microseconds, a shorter VARCHAR) is not rounded here: the target keeps
// what it can hold, and the next before image of that row may then differ.
package transform
