package integration

import (
	"context"
	"strings"
	"testing"
	"time"
)

// schemaDDL is created identically on blue and green.
const schemaDDL = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'with space', 'it''s', 'ünï😀');

-- A column of every type bgsync must carry.
CREATE TABLE alltypes (
	id            bigint PRIMARY KEY,
	c_bool        bool,
	c_int2        int2,
	c_int4        int4,
	c_int8        int8,
	c_numeric     numeric,
	c_numeric_12_2 numeric(12,2),
	c_float4      float4,
	c_float8      float8,
	c_text        text,
	c_varchar     varchar(20),
	c_char        char(5),
	c_bytea       bytea,
	c_date        date,
	c_time        time,
	c_timetz      timetz,
	c_timestamp   timestamp,
	c_timestamptz timestamptz,
	c_interval    interval,
	c_uuid        uuid,
	c_json        json,
	c_jsonb       jsonb,
	c_int4_arr    int4[],
	c_text_arr    text[],
	c_enum        mood,
	c_enum_arr    mood[]
);

-- notes holds ~4 KB of incompressible text in some rows: stored out of
-- line (TOAST). EXTERNAL storage keeps it uncompressed, so it is TOASTed
-- whenever the row exceeds the threshold.
CREATE TABLE accounts (
	id         bigint PRIMARY KEY,
	owner      text NOT NULL,
	email      varchar(200),
	balance    numeric(14,2),
	status     mood,
	created_at timestamptz,
	flags      int4[],
	notes      text
);
ALTER TABLE accounts ALTER COLUMN notes SET STORAGE EXTERNAL;

CREATE TABLE orders (
	id         bigint PRIMARY KEY,
	account_id bigint,
	amount     numeric(12,2),
	qty        int4,
	status     mood,
	placed_at  timestamptz,
	note       text,
	tags       text[]
);

-- A composite primary key.
CREATE TABLE order_lines (
	order_id bigint,
	line_no  int4,
	sku      text,
	price    numeric(10,2),
	qty      int2,
	PRIMARY KEY (order_id, line_no)
);

-- Truncated and refilled by the workload.
CREATE TABLE audit (
	id  bigint PRIMARY KEY,
	at  timestamptz,
	msg text
);

-- Every workload transaction inserts one row with its transaction id.
CREATE TABLE txlog (
	id  bigserial PRIMARY KEY,
	xid bigint NOT NULL
);
`

// greenOnlyDDL records, on green, every application of a txlog row: a
// source transaction applied twice shows up as two applied_log rows with
// the same xid (an upsert replay as an UPDATE row). ENABLE ALWAYS makes
// the trigger fire even in a session with session_replication_role =
// replica.
const greenOnlyDDL = `
CREATE TABLE applied_log (
	seq bigserial PRIMARY KEY,
	xid bigint,
	op  text NOT NULL
);
CREATE FUNCTION record_applied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.applied_log (xid, op) VALUES (NEW.xid, TG_OP);
	RETURN NULL;
END $$;
CREATE TRIGGER txlog_applied AFTER INSERT OR UPDATE ON txlog
	FOR EACH ROW EXECUTE FUNCTION record_applied();
ALTER TABLE txlog ENABLE ALWAYS TRIGGER txlog_applied;
`

// syncedTables are the tables bgsync keeps in sync, as named in the
// config, each with its primary key columns.
var syncedTables = []tableSpec{
	{Name: "public.alltypes", PK: []string{"id"}},
	{Name: "public.accounts", PK: []string{"id"}},
	{Name: "public.orders", PK: []string{"id"}},
	{Name: "public.order_lines", PK: []string{"order_id", "line_no"}},
	{Name: "public.audit", PK: []string{"id"}},
	{Name: "public.txlog", PK: []string{"id"}},
}

type tableSpec struct {
	Name string
	PK   []string
}

func tableNames(specs []tableSpec) []string {
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	return names
}

// createSchema creates the test schema on both sides of db and the
// applied-transaction log on green. With replicaFull, every synced table
// gets REPLICA IDENTITY FULL on blue (and green, so the DDL stays
// identical).
func createSchema(t *testing.T, db *testDB, replicaFull bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ddl := schemaDDL
	if replicaFull {
		var b strings.Builder
		b.WriteString(ddl)
		for _, s := range syncedTables {
			b.WriteString("ALTER TABLE " + s.Name + " REPLICA IDENTITY FULL;\n")
		}
		ddl = b.String()
	}
	for _, side := range []struct{ name, dsn, ddl string }{
		{"blue", db.BlueDSN, ddl},
		{"green", db.GreenDSN, ddl + greenOnlyDDL},
	} {
		if err := execAdmin(ctx, side.dsn, side.ddl); err != nil {
			t.Fatalf("create schema on %s: %v", side.name, err)
		}
	}
}
