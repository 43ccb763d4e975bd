package postgres

import (
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pgx/v5"
)

// Pure SQL builders. Parameters are numbered from $1; callers send values in
// the same order.

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

func quoteTable(t change.Table) string { return pgx.Identifier{t.Schema, t.Name}.Sanitize() }

// appendIdents writes quoted identifiers separated by ", ".
func appendIdents(b *strings.Builder, names []string) { appendQualified(b, "", names) }

// appendQualified writes quoted identifiers qualified by prefix ("t" →
// t."a", t."b"; "" leaves them bare), separated by ", ".
func appendQualified(b *strings.Builder, prefix string, names []string) {
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		if prefix != "" {
			b.WriteString(prefix + ".")
		}
		b.WriteString(quoteIdent(n))
	}
}

// appendPairs writes left.col = right.col for each column, joined by sep
// (", " for SET lists, " AND " for join conditions). An empty prefix
// leaves the left column unqualified.
func appendPairs(b *strings.Builder, cols []string, left, right, sep string) {
	for i, c := range cols {
		if i > 0 {
			b.WriteString(sep)
		}
		if left != "" {
			b.WriteString(left + ".")
		}
		b.WriteString(quoteIdent(c))
		b.WriteString(" = " + right + ".")
		b.WriteString(quoteIdent(c))
	}
}

// appendParamRows writes rows tuples of width parameters, numbered from
// first: ($1, $2), ($3, $4). It returns the next parameter number.
func appendParamRows(b *strings.Builder, rows, width, first int) int {
	n := first
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := 0; i < width; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			appendParam(b, n)
			n++
		}
		b.WriteByte(')')
	}
	return n
}

func appendParam(b *strings.Builder, n int) {
	b.WriteByte('$')
	b.WriteString(strconv.Itoa(n))
}

// insertSQL builds a multi-row INSERT of rows rows of cols.
func insertSQL(t change.Table, cols []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(quoteTable(t))
	b.WriteString(" (")
	appendIdents(&b, cols)
	b.WriteString(") VALUES ")
	appendParamRows(&b, rows, len(cols), 1)
	return b.String()
}

// updateSQL builds UPDATE t SET set... WHERE key... for one row: set
// parameters first, then key parameters.
func updateSQL(t change.Table, set, key []string) string {
	var b strings.Builder
	b.WriteString("UPDATE ")
	b.WriteString(quoteTable(t))
	b.WriteString(" SET ")
	n := 1
	for i, c := range set {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c))
		b.WriteString(" = ")
		appendParam(&b, n)
		n++
	}
	b.WriteString(" WHERE ")
	appendKeyMatch(&b, key, 1, n)
	return b.String()
}

// deleteSQL builds a DELETE of rows rows identified by key.
func deleteSQL(t change.Table, key []string, rows int) string {
	var b strings.Builder
	b.WriteString("DELETE FROM ")
	b.WriteString(quoteTable(t))
	b.WriteString(" WHERE ")
	appendKeyMatch(&b, key, rows, 1)
	return b.String()
}

// appendKeyMatch writes `k1 = $n AND k2 = $n+1` for one row, or
// `(k1, k2) IN (($n, $n+1), ...)` for several.
func appendKeyMatch(b *strings.Builder, key []string, rows, first int) {
	n := first
	if rows == 1 {
		for i, k := range key {
			if i > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString(quoteIdent(k))
			b.WriteString(" = ")
			appendParam(b, n)
			n++
		}
		return
	}
	b.WriteByte('(')
	appendIdents(b, key)
	b.WriteString(") IN (")
	appendParamRows(b, rows, len(key), n)
	b.WriteByte(')')
}

// truncateSQL builds TRUNCATE of the given tables.
func truncateSQL(tables []change.Table, restartIdentity, cascade bool) string {
	var b strings.Builder
	b.WriteString("TRUNCATE ")
	for i, t := range tables {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteTable(t))
	}
	if restartIdentity {
		b.WriteString(" RESTART IDENTITY")
	}
	if cascade {
		b.WriteString(" CASCADE")
	}
	return b.String()
}

// chunkSizes splits n rows into statement sizes drawn from a few fixed
// values, so that few distinct statements get prepared.
func chunkSizes(n, maxRows int) []int {
	var out []int
	for _, s := range []int{1000, 100, 10, 1} {
		if s > maxRows && s != 1 {
			continue
		}
		for n >= s {
			out = append(out, s)
			n -= s
		}
	}
	return out
}

// copySQL builds COPY t (cols) FROM STDIN (text format).
func copySQL(t change.Table, cols []string) string {
	var b strings.Builder
	b.WriteString("COPY ")
	b.WriteString(quoteTable(t))
	b.WriteString(" (")
	appendIdents(&b, cols)
	b.WriteString(") FROM STDIN")
	return b.String()
}
