package config_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/internal/config"
)

func TestDSNFile(t *testing.T) {
	dir := t.TempDir()
	blueFile := filepath.Join(dir, "blue-dsn")
	writeFile(t, blueFile, "\n  postgres://app:s3cr3t@localhost:5433/app \n\n")
	greenFile := filepath.Join(dir, "green-dsn")
	writeFile(t, greenFile, "host=localhost port=5434 password=s3cr3t\n")

	text := edit(t, base, "  dsn: postgres://app:pw@localhost:5433/app", "  dsn_file: "+blueFile)
	text = edit(t, text, "  dsn: host=localhost port=5434 dbname=app user=app password=pw", "  dsn_file: "+greenFile)
	c, err := parse(text)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("BlueDSN trims white space", func(t *testing.T) {
		got, err := c.BlueDSN()
		if err != nil || got != "postgres://app:s3cr3t@localhost:5433/app" {
			t.Errorf("BlueDSN() = %q, %v", got, err)
		}
	})
	t.Run("GreenDSN", func(t *testing.T) {
		got, err := c.GreenDSN()
		if err != nil || got != "host=localhost port=5434 password=s3cr3t" {
			t.Errorf("GreenDSN() = %q, %v", got, err)
		}
	})
	t.Run("DSNFor", func(t *testing.T) {
		got, err := c.DSNFor(config.Green)
		if err != nil || !strings.HasPrefix(got, "host=localhost") {
			t.Errorf("DSNFor(green) = %q, %v", got, err)
		}
	})
	t.Run("file read on every call", func(t *testing.T) {
		writeFile(t, blueFile, "postgres://rotated@localhost/app")
		got, err := c.BlueDSN()
		if err != nil || got != "postgres://rotated@localhost/app" {
			t.Errorf("BlueDSN() = %q, %v", got, err)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		empty := filepath.Join(dir, "empty")
		writeFile(t, empty, " \n")
		_, err := parse(edit(t, base, "  dsn: postgres://app:pw@localhost:5433/app", "  dsn_file: "+empty))
		cerr := mustFail(t, err)
		if want := "bgsync.yaml:4: blue.dsn_file: " + empty + " is empty"; cerr.Error() != want {
			t.Errorf("error:\n got %s\nwant %s", cerr.Error(), want)
		}
	})
	t.Run("file too large", func(t *testing.T) {
		big := filepath.Join(dir, "big")
		writeFile(t, big, strings.Repeat("x", 65<<10))
		_, err := parse(edit(t, base, "  dsn: postgres://app:pw@localhost:5433/app", "  dsn_file: "+big))
		cerr := mustFail(t, err)
		if want := "bgsync.yaml:4: blue.dsn_file: " + big + " is larger than 65536 bytes"; cerr.Error() != want {
			t.Errorf("error:\n got %s\nwant %s", cerr.Error(), want)
		}
	})
	t.Run("device", func(t *testing.T) {
		_, err := parse(edit(t, base, "  dsn: postgres://app:pw@localhost:5433/app", "  dsn_file: /dev/zero"))
		cerr := mustFail(t, err)
		if want := "bgsync.yaml:4: blue.dsn_file: /dev/zero is not a regular file"; cerr.Error() != want {
			t.Errorf("error:\n got %s\nwant %s", cerr.Error(), want)
		}
	})
	t.Run("ResolveDSN without a source", func(t *testing.T) {
		if _, err := (config.Database{}).ResolveDSN(); err == nil {
			t.Error("no error")
		}
	})
}
