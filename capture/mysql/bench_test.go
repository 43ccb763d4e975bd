package mysql_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	capmy "github.com/bgsync/bgsync/capture/mysql"
)

// BenchmarkDecode measures the capture end to end against the test
// server: b.N rows (5 columns, ~80 bytes) are written beforehand in
// 1,000-row transactions, then timed from Run's start until every row has
// been handed on. Reports rows/s. Example:
//
//	go test ./capture/mysql -run '^$' -bench Decode -benchtime 500000x
func BenchmarkDecode(b *testing.B) {
	d := newTestDB(b)
	d.exec(b, `CREATE TABLE bench (id BIGINT PRIMARY KEY, n INT, s VARCHAR(64), amount DECIMAL(12,2), at DATETIME(6))`)
	from, _, err := capmy.CurrentPosition(context.Background(), d.dsn)
	if err != nil {
		b.Fatal(err)
	}
	const perTxn = 1000
	var sb strings.Builder
	for i := 0; i < b.N; i += perTxn {
		sb.Reset()
		sb.WriteString("INSERT INTO bench VALUES ")
		for j := i; j < min(i+perTxn, b.N); j++ {
			if j > i {
				sb.WriteByte(',')
			}
			id := strconv.Itoa(j)
			sb.WriteString("(" + id + "," + id + ",'row number " + id + " with some text','" + id + ".25','2024-05-06 07:08:09.123456')")
		}
		d.exec(b, sb.String())
	}

	b.ResetTimer()
	t0 := time.Now()
	r := start(b, d, 0, func(c *capmy.Config) { c.Start = from }, "bench")
	rows := 0
	for rows < b.N {
		rows += len(r.next(b).Changes)
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
}
