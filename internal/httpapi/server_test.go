package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/internal/httpapi"
)

var discard = slog.New(slog.DiscardHandler)

func TestListenServesAndShutsDown(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hi") })
	srv, err := httpapi.Listen("127.0.0.1:0", h, discard)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + srv.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hi" {
		t.Errorf("body = %q", body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := http.Get("http://" + srv.Addr() + "/"); err == nil {
		t.Error("server still answers after Shutdown")
	}
}

func TestListenBusyAddressNamesIt(t *testing.T) {
	first, err := httpapi.Listen("127.0.0.1:0", http.NotFoundHandler(), discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Shutdown(context.Background()) })

	_, err = httpapi.Listen(first.Addr(), http.NotFoundHandler(), discard)
	if err == nil {
		t.Fatal("second Listen on a busy address: want an error")
	}
	if !strings.Contains(err.Error(), first.Addr()) {
		t.Errorf("error %q does not name the address %s", err, first.Addr())
	}
}

func TestListenBadAddress(t *testing.T) {
	if _, err := httpapi.Listen("no-port", http.NotFoundHandler(), discard); err == nil {
		t.Fatal("Listen(\"no-port\"): want an error")
	}
}
