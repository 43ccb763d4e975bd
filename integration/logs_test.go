package integration

import (
	"encoding/json"
	"strings"
	"testing"
)

// logRecord is one JSON log line of bgsync (slog's JSON handler).
type logRecord map[string]any

func (r logRecord) msg() string {
	s, _ := r["msg"].(string)
	return s
}

// number returns a numeric field.
func (r logRecord) number(key string) (float64, bool) {
	v, ok := r[key].(float64)
	return v, ok
}

// parseLogs returns the JSON records in out; other lines are returned as
// junk (bgsync's logs are documented to be JSON).
func parseLogs(out string) (recs []logRecord, junk []string) {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var r logRecord
		if json.Unmarshal([]byte(line), &r) != nil {
			junk = append(junk, line)
			continue
		}
		recs = append(recs, r)
	}
	return recs, junk
}

// assertProgressLogged checks the logs of one `bgsync run` for the
// documented "progress" records and returns the last rows_applied logged
// (by a progress record or the shutdown summary).
func assertProgressLogged(t *testing.T, out string) float64 {
	t.Helper()
	recs, junk := parseLogs(out)
	if len(junk) > 0 {
		t.Errorf("bgsync run wrote %d non-JSON lines; first: %q", len(junk), junk[0])
	}
	if len(recs) == 0 {
		t.Fatalf("bgsync run logged no JSON records")
	}
	var progress int
	last, found := 0.0, false
	for _, r := range recs {
		if r.msg() == "progress" {
			progress++
			for _, k := range []string{"direction", "rows_applied", "rows_per_sec", "lag_ms", "checkpoint"} {
				if _, ok := r[k]; !ok {
					t.Errorf("progress record lacks field %q: %v", k, r)
				}
			}
		}
		if v, ok := r.number("rows_applied"); ok {
			last, found = v, true
		}
	}
	if progress == 0 {
		t.Errorf(`bgsync run logged no record with msg "progress" (%d records)`, len(recs))
	}
	if !found {
		t.Errorf("no log record carries a numeric rows_applied")
	}
	return last
}
