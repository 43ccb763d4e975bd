package logging

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestScrubsSecrets(t *testing.T) {
	const pw = "s3cr3t-Pw!"
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := New(&buf, format, "debug", []string{pw, ""})
			if err != nil {
				t.Fatal(err)
			}
			log.With("dsn", "postgres://u:"+pw+"@h/db").Info("connect failed: password "+pw,
				"error", errors.New("auth "+pw), "n", 3, "any", []string{pw})
			out := buf.String()
			if strings.Contains(out, pw) {
				t.Fatalf("secret leaked: %s", out)
			}
			if !strings.Contains(out, "xxxxx") || !strings.Contains(out, "connect failed") {
				t.Fatalf("unexpected output: %s", out)
			}
		})
	}
}

func TestBadLevelAndFormat(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, "json", "loud", nil); err == nil {
		t.Error("level loud accepted")
	}
	if _, err := New(&bytes.Buffer{}, "xml", "info", nil); err == nil {
		t.Error("format xml accepted")
	}
}

func TestScrubTokens(t *testing.T) {
	sc := NewScrubber([]string{"bgsync", "p@ss w0rd"})
	tests := []struct{ in, want string }{
		{"postgres://postgres:bgsync@127.0.0.1/db", "postgres://postgres:xxxxx@127.0.0.1/db"},
		{"password=bgsync host=h", "password=xxxxx host=h"},
		{"bgsync", "xxxxx"},
		{"slot bench_bgsync_blue on /tmp/bgsyncdata", "slot bench_bgsync_blue on /tmp/bgsyncdata"},
		{"bgsyncbgsync bgsync", "bgsyncbgsync xxxxx"},
		{"dsn 'user=u password=p@ss w0rd'", "dsn 'user=u password=xxxxx'"},
	}
	for _, tt := range tests {
		if got := sc.Scrub(tt.in); got != tt.want {
			t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
