package config_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bgsync/bgsync/internal/config"
)

// base is a valid config; tests edit single lines and assert the line
// numbers shown on the left.
const base = `name: bgsync
blue:
  engine: postgres
  dsn: postgres://app:pw@localhost:5433/app
green:
  engine: postgres
  dsn: host=localhost port=5434 dbname=app user=app password=pw
directions: blue-to-green
kafka:
  brokers: embedded
tables:
  - name: public.orders
  - name: customers
apply:
  batch_rows: 100
  batch_delay: 5ms
log:
  level: debug
  format: text
http:
  listen: 127.0.0.1:0
`

// edit replaces the single occurrence of old in s by new.
func edit(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("edit: %q occurs %d times", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// parse parses text with an empty environment.
func parse(text string) (*config.Config, error) {
	return config.ParseEnv([]byte(text), "bgsync.yaml", nil)
}

// mustFail asserts err is a *config.Error and returns it.
func mustFail(t *testing.T, err error) *config.Error {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error %T is not a *config.Error: %v", err, err)
	}
	if len(cerr.Problems) == 0 {
		t.Fatalf("*config.Error without problems: %v", err)
	}
	return cerr
}

// at is the location part of a Problem, for comparing lists.
type at struct {
	Path string
	Line int
}

func locations(e *config.Error) []at {
	out := make([]at, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = at{p.Path, p.Line}
	}
	return out
}

var ignoreColumn = cmpopts.IgnoreFields(config.Problem{}, "Column")

func itoa(n int) string { return strconv.Itoa(n) }

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
