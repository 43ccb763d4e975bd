package mysql_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/google/go-cmp/cmp"
)

// insertRows inserts rows of values into table, many per statement.
func insertRows(t *testing.T, d *testDB, table string, rows [][]any) {
	t.Helper()
	for len(rows) > 0 {
		n := min(len(rows), 500)
		var ph []string
		var args []any
		for _, r := range rows[:n] {
			ph = append(ph, "("+strings.TrimSuffix(strings.Repeat("?, ", len(r)), ", ")+")")
			args = append(args, r...)
		}
		if _, err := d.db.Exec("INSERT INTO "+table+" VALUES "+strings.Join(ph, ", "), args...); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
}

// TestSnapshotSplit: for keys of every kind a cut can hold, the ranges
// Split makes hold about rows rows each and, read one by one (by another
// view), cover every row exactly once and in key order.
func TestSnapshotSplit(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	const n = 2345
	rng := rand.New(rand.NewPCG(3, 4))
	prefixes := []string{"", "a", "Ä", "ß", "Z", "😀", " x", "éé", "\x00"}
	distinctBytes := map[string]bool{"": true, "\x00": true, "\x00\x00": true, "\xff": true}
	for len(distinctBytes) < n {
		b := make([]byte, rng.IntN(7))
		for i := range b {
			b[i] = byte(rng.IntN(4)) * 85 // 00, 55, AA, FF: many shared prefixes
		}
		distinctBytes[string(b)] = true
	}
	var bytesKeys []any
	for k := range distinctBytes {
		bytesKeys = append(bytesKeys, []byte(k))
	}
	base := time.Date(1965, 3, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name, ddl string
		row       func(i int) []any
	}{
		{"int", `id BIGINT PRIMARY KEY, v INT`, func(i int) []any { return []any{int64(i*7919) - 9_000_000_000, i} }},
		{"unsigned", `id BIGINT UNSIGNED PRIMARY KEY, v INT`, func(i int) []any { return []any{uint64(1<<63) + uint64(i)*1e15, i} }},
		{"varchar", `k VARCHAR(40) COLLATE utf8mb4_unicode_ci PRIMARY KEY, v INT`, func(i int) []any {
			if i == 0 {
				return []any{"", i} // the empty string sorts first
			}
			return []any{fmt.Sprintf("%s%04d%s", prefixes[i%len(prefixes)], i, strings.Repeat(" ", i%2)), i}
		}},
		{"char_general_ci", `k CHAR(12) COLLATE utf8mb4_general_ci PRIMARY KEY, v INT`, func(i int) []any {
			return []any{fmt.Sprintf("%s%d", prefixes[i%len(prefixes)], i), i}
		}},
		{"composite", `k VARCHAR(10) COLLATE utf8mb4_unicode_ci, n INT, v INT, PRIMARY KEY (k, n)`, func(i int) []any {
			return []any{prefixes[i%7], -i, i} // long runs of one k: cuts fall inside them
		}},
		{"int_varchar", `n INT, k VARCHAR(10), v INT, PRIMARY KEY (n, k)`, func(i int) []any {
			return []any{i % 3, fmt.Sprint(prefixes[i%len(prefixes)], i), i}
		}},
		{"varbinary", `k VARBINARY(8) PRIMARY KEY, v INT`, func(i int) []any { return []any{bytesKeys[i], i} }},
		{"binary", `k BINARY(3) PRIMARY KEY, v INT`, func(i int) []any { return []any{[]byte{byte(i >> 8), byte(i), 0}, i} }},
		{"datetime", `k DATETIME(6) PRIMARY KEY, v INT`, func(i int) []any {
			return []any{base.Add(time.Duration(i) * 1234567891 * time.Microsecond).Format("2006-01-02 15:04:05.999999"), i}
		}},
		{"timestamp_date", `k TIMESTAMP(3), dte DATE, v INT, PRIMARY KEY (dte, k)`, func(i int) []any {
			return []any{time.Unix(1_700_000_000+int64(i/2)*3601, int64(i%2)*1e6).UTC().Format("2006-01-02 15:04:05.000"),
				base.AddDate(0, 0, i%5).Format("2006-01-02"), i}
		}},
		{"decimal_time", `k DECIMAL(10,3), tm TIME(2), v INT, PRIMARY KEY (k, tm)`, func(i int) []any {
			return []any{fmt.Sprintf("%.3f", float64(i/3-n/6)*0.137), fmt.Sprintf("%d:00:00.%02d", i%3*300-300, i%100), i}
		}},
		{"uuid", `k UUID PRIMARY KEY, v INT`, func(i int) []any {
			if i%2 == 0 { // time-based: ordered by the time fields, not the text
				return []any{fmt.Sprintf("%08x-%04x-11ee-8c90-%012x", rng.Uint32(), i%97, i), i}
			}
			return []any{fmt.Sprintf("%08x-9dc0-41d4-8c2b-%012x", rng.Uint32(), i), i}
		}},
		{"inet6", `k INET6 PRIMARY KEY, v INT`, func(i int) []any {
			if i%2 == 0 {
				return []any{fmt.Sprintf("::ffff:10.%d.%d.%d", i%7, i/256, i%256), i}
			}
			return []any{fmt.Sprintf("2001:db8:%x::%x", i%5, i), i}
		}},
	}
	for _, tc := range cases {
		d.exec(t, "CREATE TABLE k_"+tc.name+" ("+tc.ddl+") DEFAULT CHARSET=utf8mb4")
		rows := make([][]any, n)
		for i := range rows {
			rows[i] = tc.row(i)
		}
		insertRows(t, d, "k_"+tc.name, rows)
	}
	d.exec(t, `CREATE TABLE empty (k VARCHAR(5) PRIMARY KEY, n INT)`)

	vs := openViews(t, d, 2)
	ctx := context.Background()
	var mu sync.Mutex // views are used by one goroutine at a time
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			defer mu.Unlock()
			tbl := d.table("k_" + tc.name)
			all := readRange(t, vs[0], tbl, nil, nil)
			if len(all) != n {
				t.Fatalf("read %d rows, want %d", len(all), n)
			}
			for _, rows := range []int{100, 1000, 5000} {
				cuts, err := vs[0].Split(ctx, tbl, rows)
				if err != nil {
					t.Fatal(err)
				}
				if want := (n - 1) / rows; len(cuts) != want {
					t.Fatalf("Split(%d): %d cuts, want %d", rows, len(cuts), want)
				}
				// The other view reads the ranges, as after a restart.
				bounds := append(append([][]string{nil}, cuts...), nil)
				var got []change.Row
				for i := range len(bounds) - 1 {
					part := readRange(t, vs[1], tbl, bounds[i], bounds[i+1])
					if i < len(bounds)-2 && len(part) != rows {
						t.Errorf("Split(%d): range %d [%v, %v) holds %d rows", rows, i, bounds[i], bounds[i+1], len(part))
					}
					got = append(got, part...)
				}
				if diff := cmp.Diff(all, got); diff != "" {
					t.Fatalf("Split(%d): the ranges read differ from the whole table (-whole +ranges):\n%s", rows, diff)
				}
			}
		})
	}

	t.Run("empty", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		cuts, err := vs[0].Split(ctx, d.table("empty"), 10)
		if err != nil || len(cuts) != 0 {
			t.Errorf("empty table: cuts %v, %v", cuts, err)
		}
		if rows := readRange(t, vs[0], d.table("empty"), nil, nil); len(rows) != 0 {
			t.Errorf("empty table: %d rows", len(rows))
		}
	})

	t.Run("estimate", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		d.exec(t, "ANALYZE TABLE k_int")
		est, err := vs[0].Estimate(ctx, d.table("k_int"))
		if err != nil || est < n/2 || est > n*2 {
			t.Errorf("estimate %d, %v; %d rows", est, err, n)
		}
		if est, err := vs[0].Estimate(ctx, d.table("empty")); err != nil || est != 0 {
			t.Errorf("estimate of an empty table: %d, %v", est, err)
		}
	})
}

// TestSnapshotConcurrentViews: the views of one Open read in parallel, and
// Read hands on full batches of 1000 rows, reusing them.
func TestSnapshotConcurrentViews(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.exec(t, `CREATE TABLE c (id INT PRIMARY KEY, s VARCHAR(20))`)
	const n = 2500
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{i, fmt.Sprint("row ", i)}
	}
	insertRows(t, d, "c", rows)
	vs := openViews(t, d, 4)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, len(vs))
	batches := make([][]int, len(vs))
	for i, v := range vs {
		wg.Go(func() {
			var prev []change.Row
			next := 0
			errs[i] = v.Read(ctx, d.table("c"), nil, nil, func(b []change.Row) error {
				if prev != nil && &b[0][0] != &prev[0][0] {
					return fmt.Errorf("batch not reused")
				}
				prev = b
				batches[i] = append(batches[i], len(b))
				for _, r := range b {
					if r[0].I != int64(next) || r[1].S != fmt.Sprint("row ", next) {
						return fmt.Errorf("row %v, want id %d", r, next)
					}
					next++
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i := range vs {
		if errs[i] != nil {
			t.Errorf("view %d: %v", i, errs[i])
		}
		if !slices.Equal(batches[i], []int{1000, 1000, 500}) {
			t.Errorf("view %d: batches %v", i, batches[i])
		}
	}
}
