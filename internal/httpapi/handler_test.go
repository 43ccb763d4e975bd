package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/internal/httpapi"
	"github.com/bgsync/bgsync/internal/pipeline"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

const secret = "s3cret-pw"

func running() []pipeline.Stats {
	return []pipeline.Stats{
		{
			Direction: "blue-to-green", State: pipeline.StateRunning, Restarts: 1, Checkpoint: "0/16B3748",
			Captured: 10, CapturedRows: 100, EchoDropped: 2, AppliedTxns: 9, SkippedTxns: 1,
			Inserted: 50, Updated: 30, Deleted: 15, Truncated: 1, Missing: 3,
			Conflicts: map[pipeline.ConflictKey]uint64{
				{Kind: "update_differs", Resolution: "source_wins"}: 5,
				{Kind: "insert_exists", Resolution: "manual"}:       1,
			},
			Unresolved: 4,
			LastCommit: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
			Lag:        250 * time.Millisecond, LagP50: 100 * time.Millisecond, LagP99: 2 * time.Second,
			Heartbeats: 17, LastHeartbeat: time.Date(2025, 1, 2, 3, 4, 6, 0, time.UTC), CaptureLag: 30 * time.Millisecond,
			RetainedBytes: 4096, SlotWALStatus: "reserved",
		},
		{Direction: "green-to-blue", State: pipeline.StateRunning},
	}
}

func failing() []pipeline.Stats {
	s := running()
	s[1].State = pipeline.StateRetrying
	s[1].LastError = "open applier: connect postgres://bgsync:" + secret + "@db: refused\ngoroutine 1 [running]:"
	return s
}

func newServer(t *testing.T, stats []pipeline.Stats, token string) *httptest.Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "bgsync_test_gauge", Help: "test"}))
	h := httpapi.NewHandler(httpapi.Options{
		Gatherer: reg,
		Stats:    func() []pipeline.Stats { return stats },
		Scrub:    func(s string) string { return strings.ReplaceAll(s, secret, "xxxxx") },
		Token:    token,
		Version:  "v1.2.3",
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path, auth string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stats    []pipeline.Stats
		path     string
		wantCode int
		wantBody string // substring
	}{
		{"livez", failing(), "/livez", 200, "ok"},
		{"readyz running", running(), "/readyz", 200, "ok"},
		{"readyz retrying", failing(), "/readyz", 503, "green-to-blue: retrying: open applier"},
		{"readyz starting", []pipeline.Stats{{Direction: "blue-to-green", State: pipeline.StateStarting}}, "/readyz", 503, "blue-to-green: starting\n"},
		{"readyz no directions", nil, "/readyz", 503, "no directions"},
		{"healthz running", running(), "/healthz", 200, "ok"},
		{"healthz retrying", failing(), "/healthz", 503, "green-to-blue: retrying"},
		{"metrics", running(), "/metrics", 200, "bgsync_test_gauge 0"},
		{"status", failing(), "/v1/status", 200, `"ready": false`},
		{"unknown path", running(), "/nope", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := get(t, newServer(t, tc.stats, ""), tc.path, "")
			if code != tc.wantCode {
				t.Errorf("GET %s = %d, want %d; body:\n%s", tc.path, code, tc.wantCode, body)
			}
			if !strings.Contains(body, tc.wantBody) {
				t.Errorf("GET %s body does not contain %q:\n%s", tc.path, tc.wantBody, body)
			}
		})
	}
}

func TestReadyzBodyIsScrubbedOneLinePerDirection(t *testing.T) {
	_, hdr, body := get(t, newServer(t, failing(), ""), "/readyz", "")
	want := "green-to-blue: retrying: open applier: connect postgres://bgsync:xxxxx@db: refused\n"
	if body != want {
		t.Errorf("body = %q, want %q", body, want)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestPostIsNotAllowed(t *testing.T) {
	srv := newServer(t, running(), "")
	resp, err := srv.Client().Post(srv.URL+"/readyz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz = %d, want 405", resp.StatusCode)
	}
}

func TestStatusJSON(t *testing.T) {
	code, hdr, body := get(t, newServer(t, failing(), ""), "/v1/status", "")
	if code != 200 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/status = %d %q", code, hdr.Get("Content-Type"))
	}
	var got any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decode: %v\n%s", err, body)
	}
	want := map[string]any{
		"version":     "v1.2.3",
		"ready":       false,
		"last_verify": nil,
		"directions": []any{
			map[string]any{
				"name": "blue-to-green", "state": "running", "restarts": 1.0, "last_error": "",
				"checkpoint": "0/16B3748", "lag_seconds": 0.25, "lag_p50_seconds": 0.1, "lag_p99_seconds": 2.0,
				"last_commit_time": "2025-01-02T03:04:05Z",
				"heartbeats":       17.0, "last_heartbeat": "2025-01-02T03:04:06Z", "capture_lag_seconds": 0.03,
				"source_retained_bytes": 4096.0, "slot_wal_status": "reserved",
				"captured": map[string]any{"transactions": 10.0, "rows": 100.0},
				"applied": map[string]any{"transactions": 9.0, "already_applied": 1.0, "inserted": 50.0,
					"updated": 30.0, "deleted": 15.0, "truncated": 1.0, "row_missing": 3.0},
				"echo_dropped": 2.0,
				"conflicts": []any{
					map[string]any{"kind": "insert_exists", "resolution": "manual", "count": 1.0},
					map[string]any{"kind": "update_differs", "resolution": "source_wins", "count": 5.0},
				},
				"unresolved_conflicts": 4.0, "dead_letters_pending": 0.0, "dead_lettered": 0.0, "transform_errors": 0.0,
			},
			map[string]any{
				"name": "green-to-blue", "state": "retrying", "restarts": 0.0,
				"last_error": "open applier: connect postgres://bgsync:xxxxx@db: refused\ngoroutine 1 [running]:",
				"checkpoint": "", "lag_seconds": 0.0, "lag_p50_seconds": 0.0, "lag_p99_seconds": 0.0,
				"last_commit_time": nil,
				"heartbeats":       0.0, "last_heartbeat": nil, "capture_lag_seconds": 0.0,
				"source_retained_bytes": 0.0, "slot_wal_status": "",
				"captured": map[string]any{"transactions": 0.0, "rows": 0.0},
				"applied": map[string]any{"transactions": 0.0, "already_applied": 0.0, "inserted": 0.0,
					"updated": 0.0, "deleted": 0.0, "truncated": 0.0, "row_missing": 0.0},
				"echo_dropped":         0.0,
				"conflicts":            []any{},
				"unresolved_conflicts": 0.0, "dead_letters_pending": 0.0, "dead_lettered": 0.0, "transform_errors": 0.0,
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

func TestStatusReadyWhenAllRunning(t *testing.T) {
	_, _, body := get(t, newServer(t, running(), ""), "/v1/status", "")
	var got struct{ Ready bool }
	if err := json.Unmarshal([]byte(body), &got); err != nil || !got.Ready {
		t.Errorf("ready = %v (err %v), want true:\n%s", got.Ready, err, body)
	}
}

func TestToken(t *testing.T) {
	const token = "t0ken"
	srv := newServer(t, running(), token)
	for _, tc := range []struct {
		path     string
		auth     string
		wantCode int
	}{
		{"/livez", "", 200},
		{"/readyz", "", 200},
		{"/metrics", "", 401},
		{"/healthz", "", 401},
		{"/v1/status", "", 401},
		{"/v1/status", "Bearer wrong", 401},
		{"/v1/status", "Bearer " + token + "x", 401},
		{"/v1/status", "Basic " + token, 401},
		{"/v1/status", token, 401},
		{"/v1/status", "Bearer ", 401},
		{"/metrics", "Bearer " + token, 200},
		{"/healthz", "Bearer " + token, 200},
		{"/v1/status", "Bearer " + token, 200},
		{"/v1/status", "bearer " + token, 200},
	} {
		t.Run(tc.path+" "+tc.auth, func(t *testing.T) {
			code, hdr, body := get(t, srv, tc.path, tc.auth)
			if code != tc.wantCode {
				t.Errorf("GET %s with %q = %d, want %d", tc.path, tc.auth, code, tc.wantCode)
			}
			if code == 401 {
				if hdr.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if strings.Contains(body, token) {
					t.Errorf("401 body shows the token: %q", body)
				}
			}
		})
	}
}
