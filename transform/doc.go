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
package transform
