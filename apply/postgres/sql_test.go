package postgres

import (
	"testing"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
	"github.com/google/go-cmp/cmp"
)

func TestSQLBuilders(t *testing.T) {
	tb := change.Table{Schema: "public", Name: "Order Lines"}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"insert one row", insertSQL(tb, []string{"id", "note"}, 1),
			`INSERT INTO "public"."Order Lines" ("id", "note") VALUES ($1, $2)`},
		{"insert three rows", insertSQL(tb, []string{"id"}, 3),
			`INSERT INTO "public"."Order Lines" ("id") VALUES ($1), ($2), ($3)`},
		{"update single key", updateSQL(tb, []string{"a", "b"}, []string{"id"}),
			`UPDATE "public"."Order Lines" SET "a" = $1, "b" = $2 WHERE "id" = $3`},
		{"update composite key", updateSQL(tb, []string{"a"}, []string{"k1", "k2"}),
			`UPDATE "public"."Order Lines" SET "a" = $1 WHERE "k1" = $2 AND "k2" = $3`},
		{"delete one", deleteSQL(tb, []string{"id"}, 1),
			`DELETE FROM "public"."Order Lines" WHERE "id" = $1`},
		{"delete many composite", deleteSQL(tb, []string{"k1", "k2"}, 2),
			`DELETE FROM "public"."Order Lines" WHERE ("k1", "k2") IN (($1, $2), ($3, $4))`},
		{"truncate", truncateSQL([]change.Table{tb, {Schema: "s", Name: "t"}}, true, true),
			`TRUNCATE "public"."Order Lines", "s"."t" RESTART IDENTITY CASCADE`},
		{"quote injection", insertSQL(change.Table{Schema: "a\"b", Name: "c"}, []string{"x\"y"}, 1),
			`INSERT INTO "a""b"."c" ("x""y") VALUES ($1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

func TestChunkSizes(t *testing.T) {
	tests := []struct {
		n, max int
		want   []int
	}{
		{0, 1000, nil},
		{1, 1000, []int{1}},
		{1234, 1000, []int{1000, 100, 100, 10, 10, 10, 1, 1, 1, 1}},
		{250, 120, []int{100, 100, 10, 10, 10, 10, 10}},
		{7, 5, []int{1, 1, 1, 1, 1, 1, 1}},
	}
	for _, tt := range tests {
		got := chunkSizes(tt.n, tt.max)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("chunkSizes(%d, %d): %s", tt.n, tt.max, diff)
		}
		sum := 0
		for _, s := range got {
			sum += s
		}
		if sum != tt.n {
			t.Errorf("chunkSizes(%d, %d) sums to %d", tt.n, tt.max, sum)
		}
	}
}

func TestStageSQL(t *testing.T) {
	tb := change.Table{Schema: "public", Name: "items"}
	got := stagedUpdateSQL(tb, "bgsync_stage_0", []string{"a", "b"}, []string{"k1", "k2"})
	want := `SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; ` +
		`UPDATE "public"."items" AS t SET "a" = s."a", "b" = s."b" FROM pg_temp."bgsync_stage_0" AS s ` +
		`WHERE t."k1" = s."k1" AND t."k2" = s."k2"; TRUNCATE pg_temp."bgsync_stage_0"; RESET enable_hashjoin; RESET enable_mergejoin`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := copySQL(tb, []string{"id", "x y"}); got != `COPY "public"."items" ("id", "x y") FROM STDIN` {
		t.Errorf("copySQL = %s", got)
	}
	if got := string(pgtext.AppendCopyText(nil, []byte("a\tb\nc\\d\re"))); got != `a\tb\nc\\d\re` {
		t.Errorf("escaped = %q", got)
	}
}
