package config_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/internal/config"
)

// FuzzParse: no input panics; a success validates and prints; a failure is
// a non-empty *config.Error.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(configsDir, "*.yaml"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		base,
		"",
		"name: [x\n",
		"- a\n- b\n",
		"a\n---\nb\n",
		"tables: x\n",
		"kafka: {brokers: [a:1, 2, {x: y}]}\n",
		"apply: {batch_delay: 5, batch_rows: 1e99}\n",
		"x: &a [*a]\n",
		"<<: {name: x}\n",
		"blue: !!binary aGVsbG8=\n",
		"tables: [{name: '\"a\"\"b\".c'}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.ParseEnv(data, "fuzz.yaml", nil)
		if err != nil {
			var cerr *config.Error
			if !errors.As(err, &cerr) || len(cerr.Problems) == 0 {
				t.Fatalf("error %T without problems: %v", err, err)
			}
			_ = err.Error()
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse succeeded but Validate fails: %v", err)
		}
		_ = c.String()
		_ = fmt.Sprintf("%+v %#v", c, c)
		slog.New(slog.DiscardHandler).Info("cfg", "cfg", c)
		_ = c.Tables()
	})
}

// FuzzRedact: Redact never panics, and whatever the password, Redact of a
// DSN holding it does not show it.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"s3cr3t", "p@ss/w?rd#1", "it's a \\ test", "%zz%", "a b\tc", "xxxxx-tail", "://@@::", "İİpassword="} {
		f.Add(s, "host=db PASSWORD = 'x")
	}
	f.Fuzz(func(t *testing.T, pw, dsn string) {
		_ = config.Redact(dsn)
		_ = config.Redact(pw)
		if len(pw) < 4 || strings.ContainsAny(pw, "\x00\n\r") {
			return
		}
		cases := []struct{ dsn, written string }{
			{"postgres://app:" + pw + "@db:5432/app?sslmode=require", pw},
			{"postgresql://app:" + url.PathEscape(pw) + "@db/app", url.PathEscape(pw)},
			{"postgres://db/app?password=" + url.QueryEscape(pw) + "&sslmode=require", url.QueryEscape(pw)},
			{"host=db password='" + escapeKV(pw, "'\\") + "' dbname=app", escapeKV(pw, "'\\")},
			{"host=db password=" + escapeKV(pw, " \t'\\") + " dbname=app", escapeKV(pw, " \t'\\")},
		}
		for _, c := range cases {
			out := config.Redact(c.dsn)
			for _, secret := range []string{pw, c.written} {
				rest := strings.Replace(c.dsn, c.written, "", 1)
				if strings.Contains(out, secret) && !strings.Contains(rest, secret) && !strings.Contains("xxxxx", secret) {
					t.Errorf("Redact(%q) = %q shows the password", c.dsn, out)
				}
			}
		}
	})
}

// escapeKV backslash-escapes the characters in special.
func escapeKV(s, special string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(special, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
