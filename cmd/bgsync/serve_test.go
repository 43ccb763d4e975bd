package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/internal/pipeline"
)

// startTestHTTP starts the server on a free port for one direction that has
// not started, and returns its address (read from the log line).
func startTestHTTP(t *testing.T) string {
	t.Helper()
	t.Setenv(httpTokenEnv, "")
	var logs bytes.Buffer
	a := &app{cfg: &config.Config{HTTP: config.HTTP{Listen: "127.0.0.1:0"}}, log: slog.New(slog.NewJSONHandler(&logs, nil))}
	stop, err := a.startHTTP([]*pipeline.Direction{pipeline.New(pipeline.Config{Name: "blue-to-green"})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	var rec struct{ Msg, Addr string }
	if err := json.Unmarshal(logs.Bytes(), &rec); err != nil || rec.Addr == "" {
		t.Fatalf("no listening log line with addr (%v): %s", err, logs.String())
	}
	return rec.Addr
}

func TestStartHTTPServesDirections(t *testing.T) {
	addr := startTestHTTP(t)
	for path, want := range map[string]struct {
		code int
		body string
	}{
		"/livez":   {200, "ok"},
		"/readyz":  {503, "blue-to-green: starting"},
		"/metrics": {200, `bgsync_direction_up{direction="blue-to-green"} 0`},
	} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want.code || !strings.Contains(string(body), want.body) {
			t.Errorf("GET %s = %d %q, want %d containing %q", path, resp.StatusCode, body, want.code, want.body)
		}
	}
}

func TestStartHTTPBusyAddressIsUsageError(t *testing.T) {
	addr := startTestHTTP(t)
	a := &app{cfg: &config.Config{HTTP: config.HTTP{Listen: addr}}, log: slog.New(slog.DiscardHandler)}
	_, err := a.startHTTP(nil)
	if err == nil {
		t.Fatal("second server on a busy address: want an error")
	}
	if code := codeOf(err); code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name %s", err, addr)
	}
}

func TestStartHTTPEmptyAddressServesNothing(t *testing.T) {
	a := &app{cfg: &config.Config{}, log: slog.New(slog.DiscardHandler)}
	stop, err := a.startHTTP(nil)
	if err != nil {
		t.Fatal(err)
	}
	stop()
}
