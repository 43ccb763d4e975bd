package verify

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/testenv"
	"github.com/go-sql-driver/mysql"
)

// A text key on a MariaDB/PostgreSQL pair: the collations order the keys
// differently (utf8mb4_general_ci folds case and pads spaces; PostgreSQL
// does neither), so the table is read as one chunk, and every row is still
// found by its key on both sides, either way round.
func TestTextKeyAcrossEnginesIsOneChunk(t *testing.T) {
	myDSN := testenv.NewMySQLDatabase(t, testenv.MyBlueDSN())
	mc, err := mysql.ParseDSN(myDSN)
	if err != nil {
		t.Fatal(err)
	}
	db := mc.DBName
	pgDSN := testenv.NewDatabase(t, testenv.GreenDSN())
	my, pg := testenv.OpenMySQL(t, myDSN), testenv.Connect(t, pgDSN)
	keys := []string{"a", "a\t", "B", "c", "é", "Z", "🚀", "x'y\\z"}
	testenv.ExecMySQL(t, my, "CREATE TABLE tk (k VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci PRIMARY KEY, v INT, b BLOB)")
	testenv.Exec(t, pg, `CREATE SCHEMA "`+db+`"`, `CREATE TABLE "`+db+`".tk (k text PRIMARY KEY, v int, b bytea)`)
	for i, k := range keys {
		if _, err := my.Exec("INSERT INTO tk VALUES (?, ?, ?)", k, i, []byte{byte(i), 0}); err != nil {
			t.Fatal(err)
		}
		if _, err := pg.Exec(context.Background(), `INSERT INTO "`+db+`".tk VALUES ($1, $2, $3)`, k, i, []byte{byte(i), 0}); err != nil {
			t.Fatal(err)
		}
	}
	tk := change.Table{Schema: db, Name: "tk"}
	both := []struct {
		name string
		o    Options
	}{
		{"MariaDB blue", Options{BlueDSN: myDSN, BlueEngine: MariaDB, GreenDSN: pgDSN, GreenEngine: Postgres}},
		{"PostgreSQL blue", Options{BlueDSN: pgDSN, BlueEngine: Postgres, GreenDSN: myDSN, GreenEngine: MariaDB}},
	}
	for _, tc := range both {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Tables, o.ChunkRows = []change.Table{tk}, 2
			chunks := 0
			o.Progress = func(p Progress) { chunks = p.Chunks }
			rep, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			tb := rep.Tables[0]
			if rep.Status() != "consistent" || tb.Matched != int64(len(keys)) || chunks != 1 {
				t.Fatalf("status %s, %+v, %d chunks; want consistent, %d matched, one chunk", rep.Status(), tb, chunks, len(keys))
			}
		})
	}
	// A table the caller names in Skip (cmd: one with transforms or a
	// green name on a pair with a MariaDB side) is a table error, unread.
	o := both[0].o
	o.Tables, o.Skip = []change.Table{tk}, map[change.Table]string{tk: "it has transforms"}
	if rep, err := Run(context.Background(), o); err != nil || rep.Status() != "unmeasured" || rep.Tables[0].Error != "it has transforms" {
		t.Fatalf("skipped table: %+v, %v; want unmeasured with the reason", rep, err)
	}
	// Green (PostgreSQL) loses one row and changes another; its keys are
	// found again by their canonical text on both engines.
	testenv.Exec(t, pg, `DELETE FROM "`+db+`".tk WHERE k = '🚀'`, `UPDATE "`+db+`".tk SET b = '\x0001' WHERE k = E'a\t'`)
	for _, tc := range both {
		t.Run(tc.name+" divergent", func(t *testing.T) {
			o := tc.o
			o.Tables, o.ChunkRows = []change.Table{tk}, 2
			rep, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for class, ss := range rep.Tables[0].Samples {
				for _, s := range ss {
					got = append(got, class+":"+s.Key+"["+strings.Join(s.Columns, ",")+"]")
				}
			}
			slices.Sort(got)
			missing := "missing_on_green"
			if tc.o.BlueEngine == Postgres {
				missing = "missing_on_blue"
			}
			want := []string{`different:a\t[b]`, missing + ":🚀[]"}
			slices.Sort(want)
			if rep.Status() != "divergent" || !slices.Equal(got, want) {
				t.Fatalf("status %s, samples %q; want divergent, %q", rep.Status(), got, want)
			}
		})
	}
}
