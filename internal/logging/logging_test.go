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
