package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Schema v1 (blue) and v2 (green) of TestTransformsValidate: one table
// per mistake.
const (
	validateBlueDDL = `
CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, phone text);
CREATE TABLE people   (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders   (id int PRIMARY KEY, qty int NOT NULL, unit_cents int NOT NULL);
CREATE TABLE products (id int PRIMARY KEY, active boolean NOT NULL);
CREATE TABLE tickets  (id int PRIMARY KEY, title text NOT NULL, legacy_code text);`
	validateGreenDDL = `
CREATE TABLE accounts (id int PRIMARY KEY, email_address text NOT NULL, phone text);
CREATE TABLE people   (id int PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL);
CREATE TABLE orders   (id int PRIMARY KEY, qty int NOT NULL, unit_cents int NOT NULL, total_cents bigint NOT NULL);
CREATE TABLE products (id int PRIMARY KEY, status smallint NOT NULL);
CREATE TABLE tickets  (id int PRIMARY KEY, title text NOT NULL);`
)

// validateMistake is one mistake of validateBadTables: the line marker
// finds the line the problem must be reported at (the first line at or
// after the entry's "- name:" line that contains marker), and the problem
// line must name the table and column and contain msg.
type validateMistake struct {
	what   string
	entry  string // "- name: accounts"
	marker string
	table  string
	column string
	msg    string
}

// validateBadTables has five mistakes, one per table; every other entry
// is right, so each mistake is exactly one problem.
const validateBadTables = `tables:
  # 1. renames a column blue does not have (blue's is phone)
  - name: accounts
    transforms:
      blue_to_green:
        rename:
          email: email_address
          mobile: phone
      green_to_blue:
        rename:
          email_address: email
  # 2. an expression that does not compile (a parenthesis short)
  - name: people
    transforms:
      blue_to_green:
        set:
          first_name: 'split_part(name, " ", 0)'
          last_name: 'trim(join(split(name, " ")[1:], " ")'
        drop: [name]
      green_to_blue:
        set:
          name: 'trim(first_name + " " + last_name)'
        drop: [first_name, last_name]
  # 3. green's NOT NULL total_cents, without default, filled by nothing
  #    (blue_to_green is missing)
  - name: orders
    transforms:
      green_to_blue:
        drop: [total_cents]
  # 4. a bool into a smallint column
  - name: products
    transforms:
      blue_to_green:
        set:
          status: 'active'
      green_to_blue:
        set:
          active: 'status == 1'
  # 5. blue's legacy_code has no place on green and is not dropped
  - name: tickets
`

// validateGoodTables is validateBadTables with the mistakes fixed.
const validateGoodTables = `tables:
  - name: accounts
    transforms:
      blue_to_green: {rename: {email: email_address}}
      green_to_blue: {rename: {email_address: email}}
  - name: people
    transforms:
      blue_to_green:
        set:
          first_name: 'split_part(name, " ", 0)'
          last_name: 'trim(join(split(name, " ")[1:], " "))'
        drop: [name]
      green_to_blue:
        set: {name: 'trim(first_name + " " + last_name)'}
        drop: [first_name, last_name]
  - name: orders
    transforms:
      blue_to_green: {set: {total_cents: 'qty * unit_cents'}}
      green_to_blue: {drop: [total_cents]}
  - name: products
    transforms:
      blue_to_green: {set: {status: 'active ? 1 : 0'}}
      green_to_blue: {set: {active: 'status == 1'}}
  - name: tickets
    transforms:
      blue_to_green: {drop: [legacy_code]}
`

var validateMistakes = []validateMistake{
	{what: "rename of a column blue does not have", entry: "- name: accounts", marker: "mobile: phone",
		table: "public.accounts", column: "mobile", msg: `public.accounts has no column "mobile"`},
	{what: "an expression that does not compile", entry: "- name: people", marker: "last_name: 'trim(join(",
		table: "public.people", column: "last_name", msg: "does not compile"},
	// No blue_to_green: the problem is at the nearest key the file has,
	// the entry's transforms.
	{what: "a NOT NULL column nothing fills", entry: "- name: orders", marker: "transforms:",
		table: "public.orders", column: "total_cents", msg: "public.orders.total_cents is NOT NULL without a default and nothing fills it"},
	{what: "a bool into an integer column", entry: "- name: products", marker: "status: 'active'",
		table: "public.products", column: "status", msg: "returns a bool, which a smallint column cannot take"},
	// No transforms at all: the problem is at the table's entry.
	{what: "a blue column with no place on green", entry: "- name: tickets", marker: "- name: tickets",
		table: "public.tickets", column: "legacy_code", msg: "public.tickets.legacy_code has no place on public.tickets"},
}

// lineAfter returns the 1-based number of the first line of text at or
// after the line containing entry that contains marker (0 if none).
func lineAfter(text, entry, marker string) int {
	seen := false
	for i, line := range strings.Split(text, "\n") {
		if strings.Contains(line, entry) {
			seen = true
		}
		if seen && strings.Contains(line, marker) {
			return i + 1
		}
	}
	return 0
}

// TestTransformsValidate: a config with five different transform
// mistakes is refused by setup, check-transforms and run with exit code 2,
// and the error lists all five at once, each at its file:line, naming the
// table and the column. run is tested after a setup with the corrected
// config (run checks for setup's slots before it compiles the transforms,
// so against a database never set up it would stop at the slots first).
func TestTransformsValidate(t *testing.T) {
	requireIntegration(t)
	requireBinary(t)
	db := newTestDB(t, "transforms_validate")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	execAll(t, ctx, mustConnect(t, db.BlueDSN), validateBlueDDL)
	execAll(t, ctx, mustConnect(t, db.GreenDSN), validateGreenDDL)
	state := filepath.Join(t.TempDir(), "state")
	badText := transformsConfig(db, state, validateBadTables)
	bad := writeFile(t, "bad.yaml", badText)
	good := writeFile(t, "good.yaml", transformsConfig(db, state, validateGoodTables))

	check := func(label string, args ...string) {
		t.Helper()
		r := runBgsync(t, time.Minute, args...)
		if r.Code != 2 {
			t.Errorf("%s: want exit 2, got\n%s", label, r)
			return
		}
		if want := fmt.Sprintf("%s: %d problems:", bad, len(validateMistakes)); !strings.Contains(r.Stderr, want) {
			t.Errorf("%s: stderr lacks %q (one problem per mistake):\n%s", label, want, r.Stderr)
		}
		lines := strings.Split(r.Stderr, "\n")
		for _, m := range validateMistakes {
			n := lineAfter(badText, m.entry, m.marker)
			if n == 0 {
				t.Fatalf("the config has no %q after %q", m.marker, m.entry)
			}
			loc := fmt.Sprintf("%s:%d: ", bad, n)
			found := false
			for _, l := range lines {
				if strings.Contains(l, loc) && strings.Contains(l, m.msg) && strings.Contains(l, m.table) && strings.Contains(l, m.column) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s: %s: no line of stderr has %q, %q, table %s and column %s:\n%s",
					label, m.what, loc, m.msg, m.table, m.column, r.Stderr)
			}
		}
		t.Logf("%s:\n%s", label, r.Stderr)
	}

	check("setup", "setup", "--config", bad, "--replica-identity-full")
	check("check-transforms", "check-transforms", "--config", bad)
	if slots := slotsNamed(t, db.Name); len(slots) != 0 {
		t.Fatalf("setup with a bad config created slots %v; it must stop before changing anything", slots)
	}

	if r := runBgsync(t, 2*time.Minute, "setup", "--config", good, "--replica-identity-full"); r.Code != 0 {
		t.Fatalf("setup with the corrected config:\n%s", r)
	}
	if r := runBgsync(t, time.Minute, "check-transforms", "--config", good); r.Code != 0 {
		t.Errorf("check-transforms with the corrected config: want exit 0, got\n%s", r)
	}
	check("run", "run", "--config", bad)
}

// transformExampleDSNs are the placeholder DSNs of configs/transforms/*.yaml.
var transformExampleDSNs = map[string]func(*testDB) string{
	"postgres://bgsync:change-me@blue-db.internal:5432/app?sslmode=require":  func(db *testDB) string { return db.BlueDSN },
	"postgres://bgsync:change-me@green-db.internal:5432/app?sslmode=require": func(db *testDB) string { return db.GreenDSN },
}

// TestTransformsValidateExamples creates the v1 and v2 schemas each
// configs/transforms/*.yaml documents in its header, on blue and green,
// and runs check-transforms with it: every example must compile against
// the live schemas it describes (exit 0).
func TestTransformsValidateExamples(t *testing.T) {
	requireIntegration(t)
	requireBinary(t)
	files, err := filepath.Glob(filepath.Join("..", "configs", "transforms", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no configs/transforms/*.yaml: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			text := string(data)
			db := newTestDB(t, "txex_"+strings.ReplaceAll(name, "-", "_"))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			for dsn, label := range map[string]string{db.BlueDSN: "# blue (v1):", db.GreenDSN: "# green (v2):"} {
				ddl := exampleDDL(text, label)
				if ddl == "" {
					t.Fatalf("%s: no %q section in the header", file, label)
				}
				execAll(t, ctx, mustConnect(t, dsn), ddl)
			}
			for placeholder, dsn := range transformExampleDSNs {
				if !strings.Contains(text, placeholder) {
					t.Fatalf("%s: no placeholder DSN %s", file, placeholder)
				}
				text = strings.ReplaceAll(text, placeholder, dsn(db))
			}
			path := writeFile(t, filepath.Base(file), text)
			if r := runBgsync(t, time.Minute, "check-transforms", "--config", path, "--sample", "0"); r.Code != 0 {
				t.Errorf("check-transforms: want exit 0, got\n%s", r)
			}
		})
	}
}

// exampleDDL returns the comment lines indented under label ("#   CREATE
// TABLE ..."), without the "#", joined into one SQL text.
func exampleDDL(text, label string) string {
	var out []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.TrimSpace(line) == label:
			in = true
		case in && strings.HasPrefix(line, "#   "):
			out = append(out, strings.TrimSpace(line[1:]))
		case in:
			return strings.Join(out, "\n")
		}
	}
	return strings.Join(out, "\n")
}
