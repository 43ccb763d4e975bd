package pgtext

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bgsync/bgsync/change"
)

const defaultTestDSN = "postgres://postgres:bgsync@127.0.0.1:15433/postgres?sslmode=disable"

// connectTest opens a connection to the test cluster. Unreachable: a
// failure under CI, a skip elsewhere.
func connectTest(t *testing.T) *pgx.Conn {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL; skipped with -short")
	}
	dsn := os.Getenv("BGSYNC_TEST_BLUE_DSN")
	if dsn == "" {
		dsn = defaultTestDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL unreachable (BGSYNC_TEST_BLUE_DSN or the default test cluster): %v", err)
		}
		t.Skipf("PostgreSQL unreachable, set BGSYNC_TEST_BLUE_DSN or run `bash scripts/env.sh up`: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// queryRow runs sql with raw text parameters of unspecified type and
// returns the first row's columns as the server's text output.
func queryRow(ctx context.Context, c *pgconn.PgConn, sql string, params ...[]byte) ([][]byte, error) {
	res := c.ExecParams(ctx, sql, params, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, res.Err
	}
	if len(res.Rows) != 1 {
		return nil, fmt.Errorf("%d rows", len(res.Rows))
	}
	return res.Rows[0], nil
}

func exec(t *testing.T, ctx context.Context, c *pgx.Conn, sql string) {
	t.Helper()
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

type serverCase struct {
	typ      string
	literals []string
	// noEq: the type has no equality operator (json, box[]): compare the
	// output text only.
	noEq bool
	// oracle, when set, is SQL computing the Value's I field from $1::typ
	// on the server (skipped for infinities).
	oracle string
	// kind, when set, is the Kind Decode must return (checks that the
	// Registry, not the KindEnum fallback, decoded user types).
	kind change.Kind
}

func serverCases(schema string) []serverCase {
	epochUS := "(extract(epoch from $1::%s) * 1000000)::int8"
	epoch2000US := "((extract(epoch from $1::%s) - 946684800) * 1000000)::int8"
	return []serverCase{
		{typ: "bool", literals: []string{"t", "f", "true"}},
		{typ: "int2", literals: []string{"-32768", "32767", "0"}},
		{typ: "int4", literals: []string{"-2147483648", "2147483647", "42"}},
		{typ: "int8", literals: []string{"-9223372036854775808", "9223372036854775807"}},
		{typ: "oid", literals: []string{"0", "4294967295"}},
		{typ: "numeric(12,2)", literals: []string{"1", "1.00", "-1234567890.12", "0.1", "9999999999.99"}},
		{typ: "numeric", literals: []string{"1.0", "1.00", "0.000000000001", "-0", "1e-20", "1e100", "NaN", "Infinity", "-Infinity",
			"123456789012345678901234567890.123456789012345678901234567890"}},
		{typ: "float4", literals: []string{"1.1", "-0", "3.4028235e38", "1e-45", "1.17549435e-38", "16777217", "NaN", "Infinity", "-Infinity"}},
		{typ: "float8", literals: []string{"0.1", "-0", "1.7976931348623157e308", "5e-324", "2.2250738585072014e-308", "1e21", "123456.789",
			"NaN", "Infinity", "-Infinity"}},
		{typ: "text", literals: []string{"", "hello", `a b "c" \d {x,y}`, "日本語 🎉 émoji ∑ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👩‍👩‍👧", "tab\tnewline\nCR\r",
			"NULL", " lead", "trail ", "\u00a0nbsp\u200b", `\x00`}},
		{typ: "varchar(10)", literals: []string{"abc", "", "ünï"}},
		{typ: "char(5)", literals: []string{"ab", "", "abcde", "é"}},
		{typ: `"char"`, literals: []string{"a", `\377`, ""}},
		{typ: "name", literals: []string{"pg_class", "Mixed Case"}},
		{typ: "bytea", literals: []string{`\x`, `\x00ff10`, `\x5c78`, `abc\000\\`}},
		{typ: "date", literals: []string{"2024-02-29", "1970-01-01", "0001-01-01", "0001-12-31 BC", "0044-03-15 BC", "4714-11-24 BC",
			"12345-06-07", "5874897-12-31", "infinity", "-infinity"}, oracle: "$1::date - date '1970-01-01'"},
		{typ: "time", literals: []string{"00:00:00", "23:59:59.999999", "24:00:00", "12:34:56.5"}, oracle: fmt.Sprintf(epochUS, "time")},
		{typ: "timetz", literals: []string{"12:34:56.789+05:30", "00:00:00-12", "24:00:00+15:59", "10:00:00+05:30:15", "23:59:59.999999-15:59:59"}},
		{typ: "timestamp", literals: []string{"2024-01-02 03:04:05.123456", "1970-01-01 00:00:00.000001", "1969-12-31 23:59:59.999999",
			"0044-03-15 10:00:00 BC", "4714-11-24 00:00:00 BC", "10000-01-01 00:00:00", "294247-01-01 00:00:00", "infinity", "-infinity"},
			oracle: fmt.Sprintf(epoch2000US, "timestamp")},
		// PostgreSQL's largest timestamps: extract(epoch) rounds them, so no
		// numeric oracle; the round trip through the server still checks them.
		{typ: "timestamp", literals: []string{"294276-12-31 23:59:59.999999"}},
		{typ: "timestamptz", literals: []string{"294276-12-31 23:59:59.999999+00"}},
		{typ: "timestamptz", literals: []string{"2024-01-02 03:04:05.123456+05:30", "2024-06-30 12:00:00+00", "1800-01-01 00:00:00+00",
			"0044-03-15 10:00:00+00 BC", "4714-11-24 00:00:00+00 BC", "10000-01-01 00:00:00+00", "infinity", "-infinity"},
			oracle: fmt.Sprintf(epoch2000US, "timestamptz")},
		{typ: "interval", literals: []string{"1 year 2 mons -3 days 04:05:06.789", "-1 year +2 mons", "0", "1 microsecond",
			"-00:00:00.000001", "100 hours", "-1 days +01:00:00", "1 day -1 hour", "-9223372036854775808 microseconds",
			"9223372036854775807 microseconds", "-2147483648 mons -2147483648 days", "2147483647 mons 2147483647 days"}},
		{typ: "uuid", literals: []string{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000",
			"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"}},
		{typ: "json", noEq: true, literals: []string{`{"b":1, "a":[1,2]}`, ` "x" `, "null", "[]", `{"k":"\u00e9 \" \\"}`}},
		{typ: "jsonb", literals: []string{`{"b":1, "a":[1,2]}`, ` "x" `, "null", "[]", `{"k":"\u00e9 \" \\"}`}},
		{typ: "int4[]", literals: []string{"{}", "{1,2,NULL}", "{{1,2},{3,4}}", "{{{1}}}", "{NULL}"}},
		{typ: "int8[]", literals: []string{"{-9223372036854775808,9223372036854775807}"}},
		{typ: "text[]", literals: []string{`{NULL,"a b","q\"x","","NULL","null","x,y","{}","back\\slash"," lead","trail ",日本,"a;b"}`,
			`{{a,b},{NULL,d}}`, `{{"a b",NULL},{"",x}}`, "{}"}},
		{typ: "varchar[]", literals: []string{"{a,b}"}},
		{typ: "char(3)[]", literals: []string{`{"a","ab "}`}},
		{typ: "numeric[]", literals: []string{"{1.00,NaN,-Infinity,0.10}"}},
		{typ: "float8[]", literals: []string{"{NaN,-Infinity,-0,1.5,1e+300}"}},
		{typ: "float4[]", literals: []string{"{1.1,NaN}"}},
		{typ: "bool[]", literals: []string{"{t,f,NULL}"}},
		{typ: "bytea[]", literals: []string{`{"\\x00ff",NULL,"\\x"}`}},
		{typ: "date[]", literals: []string{`{2020-01-01,"0044-03-15 BC",infinity}`}},
		{typ: "time[]", literals: []string{"{12:00:00,24:00:00}"}},
		{typ: "timestamp[]", literals: []string{`{"2024-01-02 03:04:05.5","0044-03-15 10:00:00 BC"}`}},
		{typ: "timestamptz[]", literals: []string{`{"2024-01-02 03:04:05+05:30",-infinity}`}},
		{typ: "interval[]", literals: []string{`{"1 day","-00:00:01","1 year 2 mons -3 days 04:05:06.789"}`}},
		{typ: "uuid[]", literals: []string{"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}"}},
		{typ: "jsonb[]", literals: []string{`{"{\"a\": 1}","[1, 2]",null}`}},
		{typ: schema + ".mood", kind: change.KindEnum, literals: []string{"sad", "happy", `a "b" c`, "NULL", "with space", "ünï"}},
		{typ: schema + ".mood[]", kind: change.KindArray, literals: []string{`{sad,happy,NULL,"a \"b\" c","NULL","with space"}`, "{{sad,ok},{happy,NULL}}", "{}"}},
		{typ: schema + ".posint", kind: change.KindInt, literals: []string{"5"}},
		{typ: schema + ".posint[]", kind: change.KindArray, literals: []string{"{1,2,NULL}"}},
		{typ: "inet", kind: change.KindEnum, literals: []string{"192.168.0.1/24", "::1"}},
		{typ: "inet[]", kind: change.KindArray, literals: []string{"{10.0.0.1,::1/128}"}},
		{typ: "box[]", kind: change.KindEnum, noEq: true, literals: []string{"{(1,2),(3,4);(5,6),(7,8)}"}},
		{typ: "int4range", literals: []string{"[1,5)", "empty"}},
		{typ: "int4range[]", literals: []string{`{"[1,5)",empty}`}},
	}
}

// TestServerRoundTrip reads values as the server prints them, decodes them,
// encodes them back, writes the encoding as an untyped text parameter from a
// session with different TimeZone, DateStyle and IntervalStyle, and checks
// that the server stored exactly the original value.
func TestServerRoundTrip(t *testing.T) {
	reader := connectTest(t)
	writer := connectTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The reader prints as a capture's replication session would, in an
	// awkward zone; the writer parses under settings unlike the reader's.
	exec(t, ctx, reader, "SET TimeZone = 'Asia/Kolkata'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'")
	exec(t, ctx, writer, "SET TimeZone = 'America/St_Johns'; SET DateStyle = 'SQL, DMY'; SET IntervalStyle = 'sql_standard'")

	schema := fmt.Sprintf("pgtext_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	exec(t, ctx, reader, "CREATE SCHEMA "+schema)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = reader.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	exec(t, ctx, reader, "CREATE TYPE "+schema+`.mood AS ENUM ('sad', 'ok', 'happy', 'a "b" c', 'NULL', 'with space', 'ünï')`)
	exec(t, ctx, reader, "CREATE DOMAIN "+schema+".posint AS int4 CHECK (VALUE > 0)")

	// What a capture learns from pg_type.
	var reg Registry
	rows, err := reader.Query(ctx, `SELECT oid, typelem, typbasetype, typcategory = 'A'
		FROM pg_type WHERE typnamespace = $1::regnamespace`, schema)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var oid, elem, base uint32
		var isArray bool
		if err := rows.Scan(&oid, &elem, &base, &isArray); err != nil {
			t.Fatal(err)
		}
		switch {
		case isArray:
			reg.Register(oid, Type{Elem: elem})
		case base != 0:
			reg.Register(oid, Type{Base: base})
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	for i, tc := range serverCases(schema) {
		t.Run(strings.TrimPrefix(tc.typ, schema+"."), func(t *testing.T) {
			table := fmt.Sprintf("%s.t%d", schema, i)
			exec(t, ctx, reader, fmt.Sprintf("CREATE TABLE %s (id int PRIMARY KEY, v %s)", table, tc.typ))
			var oid uint32
			if err := reader.QueryRow(ctx, "SELECT $1::regtype::oid", tc.typ).Scan(&oid); err != nil {
				t.Fatal(err)
			}
			for j, lit := range tc.literals {
				t.Run(strconv.Itoa(j), func(t *testing.T) {
					roundTrip(t, ctx, reader.PgConn(), writer.PgConn(), &reg, tc, table, oid, j, lit)
				})
			}
		})
	}
}

func roundTrip(t *testing.T, ctx context.Context, reader, writer *pgconn.PgConn, reg *Registry,
	tc serverCase, table string, oid uint32, id int, lit string) {
	t.Helper()
	row, err := queryRow(ctx, reader, fmt.Sprintf("SELECT $1::%s", tc.typ), []byte(lit))
	if err != nil {
		t.Fatalf("literal %q: %v", lit, err)
	}
	out := row[0]
	v, err := reg.Decode(oid, out)
	if err != nil {
		t.Fatalf("Decode(%d, %q): %v", oid, out, err)
	}
	if tc.kind != change.KindNull && v.Kind != tc.kind {
		t.Fatalf("Decode(%d, %q).Kind = %s, want %s", oid, out, v.Kind, tc.kind)
	}
	if tc.oracle != "" && v.I != change.PosInfinity && v.I != change.NegInfinity {
		row, err := queryRow(ctx, reader, "SELECT "+tc.oracle, []byte(lit))
		if err != nil {
			t.Fatalf("oracle for %q: %v", lit, err)
		}
		if want := string(row[0]); strconv.FormatInt(v.I, 10) != want {
			t.Fatalf("Decode(%q).I = %d, server computes %s", out, v.I, want)
		}
	}
	enc, err := Encode(nil, v)
	if err != nil {
		t.Fatalf("Encode(%+v): %v", v, err)
	}
	idText := []byte(strconv.Itoa(id))
	if _, err := queryRow(ctx, writer, fmt.Sprintf("INSERT INTO %s (id, v) VALUES ($1, $2) RETURNING 1", table), idText, enc); err != nil {
		t.Fatalf("INSERT of Encode(Decode(%q)) = %q: %v", out, enc, err)
	}
	if !tc.noEq {
		// The apply's WHERE col = $1 form, with the same untyped parameter.
		row, err := queryRow(ctx, writer, fmt.Sprintf("SELECT count(*) FROM %s WHERE id = $1 AND v = $2", table), idText, enc)
		if err != nil || string(row[0]) != "1" {
			t.Fatalf("WHERE v = %q: %s rows, %v", enc, row, err)
		}
	}
	same := "$2::text IS NOT NULL"
	if !tc.noEq {
		same = fmt.Sprintf("v IS NOT DISTINCT FROM $2::%s", tc.typ)
	}
	row, err = queryRow(ctx, reader, fmt.Sprintf("SELECT v, %s FROM %s WHERE id = $1", same, table), idText, []byte(lit))
	if err != nil {
		t.Fatal(err)
	}
	// Identical output text in the same session is the strict check: it
	// also tells numeric scale, float -0 and jsonb/json text apart.
	if row[0] == nil || string(row[0]) != string(out) || string(row[1]) != "t" {
		t.Fatalf("stored %q (IS NOT DISTINCT FROM: %s) after writing %q, want %q", row[0], row[1], enc, out)
	}
	back, err := reg.Decode(oid, row[0])
	if err != nil || !change.Equal(back, v) {
		t.Fatalf("re-decoded %+v (%v), want %+v", back, err, v)
	}
}

// TestServerUnrepresentable checks that values change.Value cannot hold are
// decode errors, never silently different values.
func TestServerUnrepresentable(t *testing.T) {
	conn := connectTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		name, sql string
		oid       uint32
	}{
		{"array_lower_bound", "SELECT '[0:1]={1,2}'::int4[]", 1007},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row, err := queryRow(ctx, conn.PgConn(), tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			if v, err := Decode(tc.oid, row[0]); !errors.Is(err, ErrRange) {
				t.Fatalf("Decode(%q) = %+v, %v; want ErrRange", row[0], v, err)
			}
		})
	}
}
