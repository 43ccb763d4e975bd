package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/gate"
	"github.com/bgsync/bgsync/internal/httpapi"
	"github.com/bgsync/bgsync/internal/pipeline"
	"github.com/prometheus/client_golang/prometheus"
)

func gateServer(t *testing.T, stats []pipeline.Stats, v gate.Verify) *httptest.Server {
	t.Helper()
	h := httpapi.NewHandler(httpapi.Options{
		Gatherer: prometheus.NewRegistry(),
		Stats:    func() []pipeline.Stats { return stats },
		Gate: httpapi.GateOptions{
			Thresholds: gate.Thresholds{MaxLag: 5 * time.Second, VerifyMaxAge: time.Hour, ErrorWindow: 5 * time.Minute},
			LastVerify: func(context.Context) (gate.Verify, error) { return v, nil },
		},
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func bothRunning(lag time.Duration) []pipeline.Stats {
	return []pipeline.Stats{
		{Direction: "blue-to-green", State: pipeline.StateRunning, Lag: lag},
		{Direction: "green-to-blue", State: pipeline.StateRunning},
	}
}

// TestGateJSON: the gate answers 200 with the verdict's JSON shape, and a
// query parameter overrides a threshold.
func TestGateJSON(t *testing.T) {
	srv := gateServer(t, bothRunning(2*time.Second), gate.Verify{Known: true, Finished: time.Now(), Status: "consistent"})
	for _, c := range []struct {
		path, status, reason string
	}{
		{"/v1/gate/cutover", "PASS", ""},
		{"/v1/gate/cutover?max_lag=1s", "FAIL", "blue-to-green lag 2s is above the 1s allowed"},
		{"/v1/gate/rollback", "PASS", ""},
	} {
		code, _, body := get(t, srv, c.path, "")
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", c.path, code, body)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: %v\n%s", c.path, err, body)
		}
		for _, k := range []string{"gate", "status", "safe", "reasons", "figures"} {
			if _, ok := v[k]; !ok {
				t.Errorf("%s: no %q in %s", c.path, k, body)
			}
		}
		if v["status"] != c.status || v["safe"] != (c.status == "PASS") || !strings.Contains(body, c.reason) {
			t.Errorf("%s: %s", c.path, body)
		}
	}
	if code, _, _ := get(t, srv, "/v1/gate/sideways", ""); code != http.StatusNotFound {
		t.Errorf("unknown gate: %d", code)
	}
	if code, _, _ := get(t, srv, "/v1/gate/cutover?max_lag=soon", ""); code != http.StatusBadRequest {
		t.Errorf("malformed threshold: %d", code)
	}
}

// TestFlagger: the webhooks answer by status code: cutover 200 when safe,
// 412 with a one-line reason when not; rollback 200 only when cutover is
// not safe and rollback is.
func TestFlagger(t *testing.T) {
	fresh := gate.Verify{Known: true, Finished: time.Now(), Status: "consistent"}
	post := func(srv *httptest.Server, path string) (int, string) {
		resp, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader(`{"name":"app"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	good := gateServer(t, bothRunning(time.Second), fresh)
	if code, body := post(good, "/v1/flagger/cutover"); code != 200 {
		t.Errorf("cutover, all good: %d %s", code, body)
	}
	if code, body := post(good, "/v1/flagger/rollback"); code != 412 {
		t.Errorf("rollback when cutover is safe: %d %s, want 412", code, body)
	}
	lagging := gateServer(t, bothRunning(time.Minute), fresh)
	code, body := post(lagging, "/v1/flagger/cutover")
	if code != 412 || !strings.Contains(body, "lag") || strings.Count(strings.TrimSpace(body), "\n") != 0 {
		t.Errorf("cutover with lag: %d %q, want 412 and one line naming the lag", code, body)
	}
	if code, body := post(lagging, "/v1/flagger/rollback"); code != 200 {
		t.Errorf("rollback when cutover lags and rollback is safe: %d %s, want 200", code, body)
	}
}

// TestStatusShowsLastVerify: /v1/status carries the last verify run.
func TestStatusShowsLastVerify(t *testing.T) {
	done := time.Date(2026, 11, 24, 1, 2, 3, 0, time.UTC)
	srv := gateServer(t, bothRunning(0), gate.Verify{Known: true, Finished: done, Status: "divergent",
		Divergent: []string{"public.orders"}, LastConsistent: done.Add(-time.Hour)})
	code, _, body := get(t, srv, "/v1/status", "")
	var st struct {
		LastVerify struct {
			Finished       time.Time `json:"finished"`
			Status         string    `json:"status"`
			Divergent      []string  `json:"divergent_tables"`
			LastConsistent time.Time `json:"last_consistent"`
		} `json:"last_verify"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 {
		t.Fatalf("%d %v\n%s", code, err, body)
	}
	lv := st.LastVerify
	if !lv.Finished.Equal(done) || lv.Status != "divergent" || len(lv.Divergent) != 1 || !lv.LastConsistent.Equal(done.Add(-time.Hour)) {
		t.Fatalf("last_verify: %+v", lv)
	}
}
