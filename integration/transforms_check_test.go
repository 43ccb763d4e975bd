package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Blue's customers and green's clients: the expand/contract pair of
// configs/bgsync.example.yaml (renamed table and column, name split in
// two, cents as numeric, text attrs as jsonb), plus a blue column green
// does not have.
const (
	ctBlueDDL = `CREATE TABLE customers (id int PRIMARY KEY, email text, name text, price_cents integer,
	attrs text, legacy_code text);`
	ctGreenDDL = `CREATE TABLE clients (id bigint PRIMARY KEY, email_address text, first_name text, last_name text,
	price numeric(12,2), attrs jsonb);`
)

// ctTransforms is the customers entry's transforms. With emailOut empty,
// blue_to_green renames email to email_address; otherwise it computes
// email_address with emailOut.
func ctTransforms(emailOut string) string {
	rename, set := "rename: {email: email_address}", ""
	if emailOut != "" {
		rename, set = "rename: {}", fmt.Sprintf("\n          email_address: '%s'", emailOut)
	}
	return fmt.Sprintf(`    transforms:
      blue_to_green:
        %s
        set:%s
          first_name: 'split_part(name, " ", 0)'
          last_name: 'trim(join(split(name, " ")[1:], " "))'
          price: 'unscaled(price_cents, 2)'
        drop: [name, price_cents, legacy_code]
      green_to_blue:
        rename: {email_address: email}
        set:
          name: 'trim(first_name + " " + last_name)'
          price_cents: 'scaled(price, 2)'
        drop: [first_name, last_name, price]
`, rename, set)
}

// ctReport is the part of `check-transforms --format json` the tests read.
type ctReport struct {
	Status string `json:"status"`
	Checks []struct {
		Table           string           `json:"table"`
		From            string           `json:"from"`
		Source          string           `json:"source"`
		RowsChecked     int64            `json:"rows_checked"`
		LossyRows       int64            `json:"lossy_rows"`
		FailedRows      int64            `json:"failed_rows"`
		LossyColumns    map[string]int64 `json:"lossy_columns"`
		NotRoundTripped []string         `json:"not_round_tripped"`
		Samples         []struct {
			Table       string   `json:"table"`
			Key         string   `json:"key"`
			Column      string   `json:"column"`
			Original    *string  `json:"original"`
			RoundTrip   *string  `json:"round_trip"`
			Error       string   `json:"error"`
			Transform   string   `json:"transform"`
			Target      string   `json:"target"`
			Expressions []string `json:"expressions"`
		} `json:"samples"`
		Error string `json:"error"`
	} `json:"checks"`
}

// newCheckTransformsDB creates the two tables with their rows and a config
// file whose customers entry has ctTransforms(emailOut).
func newCheckTransformsDB(t *testing.T, label, emailOut, blueRows, greenRows string) string {
	t.Helper()
	requireIntegration(t)
	requireBinary(t)
	db := newTestDB(t, label)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := execAdmin(ctx, db.BlueDSN, ctBlueDDL+blueRows); err != nil {
		t.Fatal(err)
	}
	if err := execAdmin(ctx, db.GreenDSN, ctGreenDDL+greenRows); err != nil {
		t.Fatal(err)
	}
	// One-way on purpose: the round trip uses both mappings anyway.
	cfg := fmt.Sprintf("name: %s\nstate_dir: %q\nblue: {engine: postgres, dsn: %q}\ngreen: {engine: postgres, dsn: %q}\n"+
		"directions: blue-to-green\ntables:\n  - name: customers\n    green_name: clients\n%s",
		db.Name, filepath.Join(t.TempDir(), "state"), db.BlueDSN, db.GreenDSN, ctTransforms(emailOut))
	return writeFile(t, "bgsync.yaml", cfg)
}

func runCheckTransforms(t *testing.T, cfg string, args ...string) (result, *ctReport) {
	t.Helper()
	r := runBgsync(t, 2*time.Minute, append([]string{"check-transforms", "--config", cfg, "--format", "json"}, args...)...)
	rep := &ctReport{}
	if err := json.Unmarshal([]byte(r.Stdout), rep); err != nil {
		t.Fatalf("check-transforms output is not the JSON report: %v\n%s", err, r)
	}
	return r, rep
}

// TestCheckTransformsLossless: a mapping that renames, splits and joins
// names, converts cents to numeric and text to jsonb, with rows on both
// sides that all survive the round trip: exit 0, zero lossy rows, and the
// blue column green does not have listed as not round-tripped.
func TestCheckTransformsLossless(t *testing.T) {
	cfg := newCheckTransformsDB(t, "ct_lossless", "",
		`INSERT INTO customers VALUES
	(1, 'ada@example.com', 'Ada Lovelace', 1250, '{"vip": true, "tags": ["a", "b"]}', 'L1'),
	(2, 'grace@example.com', 'Grace Brewster Hopper', 99, NULL, NULL),
	(3, NULL, 'Prince', 0, '{}', 'L3'),
	(4, 'x@example.com', 'Émile Zola', -1999, '[1, 2.5, "x"]', 'L4');
INSERT INTO customers SELECT g, 'u' || g || '@example.com', 'User ' || g, g * 7, '{"n": ' || g || '}', 'G'
	FROM generate_series(5, 1500) g;`,
		`INSERT INTO clients VALUES
	(10, 'ada@example.com', 'Ada', 'Lovelace', 12.50, '{"b": 1, "a": [1, 2]}'),
	(11, 'grace@example.com', 'Grace', 'Brewster Hopper', 0.99, NULL),
	(12, 'cher@example.com', 'Cher', '', 100, '{"z": null}'),
	(13, NULL, 'Zoë', 'Ünal', -3.05, '"text"');`)

	r, rep := runCheckTransforms(t, cfg)
	if r.Code != 0 || rep.Status != "lossless" {
		t.Fatalf("want exit 0 and status lossless, got exit %d, status %q\n%s", r.Code, rep.Status, r)
	}
	if len(rep.Checks) != 2 {
		t.Fatalf("want 2 checks (one per side), got %d\n%s", len(rep.Checks), r)
	}
	want := map[string]int64{"blue": 1000, "green": 4} // the default --sample is 1000
	for _, c := range rep.Checks {
		if c.Table != "public.customers" || c.RowsChecked != want[c.From] || c.LossyRows != 0 || len(c.Samples) != 0 || c.Error != "" {
			t.Errorf("from %s: want %d rows checked and none lossy, got %+v", c.From, want[c.From], c)
		}
		t.Logf("from %s: %d rows checked, %d lossy, not round-tripped %v", c.From, c.RowsChecked, c.LossyRows, c.NotRoundTripped)
	}
	if got := strings.Join(rep.Checks[0].NotRoundTripped, ","); rep.Checks[0].From != "blue" || got != "legacy_code" {
		t.Errorf("from blue: want legacy_code not round-tripped, got %q", got)
	}

	// Every row, and the text report.
	r = runBgsync(t, 2*time.Minute, "check-transforms", "--config", cfg, "--sample", "0")
	if r.Code != 0 {
		t.Fatalf("--sample 0: want exit 0\n%s", r)
	}
	for _, s := range []string{"blue→green→blue: 1500 rows checked, 0 lossy", "green→blue→green: 4 rows checked, 0 lossy",
		"not round-tripped: legacy_code", "no lossy rows"} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("text report lacks %q\n%s", s, r.Stdout)
		}
	}

	// Usage errors.
	for _, args := range [][]string{{"--format", "xml"}, {"--tables", "public.nope"}, {"--sample", "-1"}} {
		r := runBgsync(t, time.Minute, append([]string{"check-transforms", "--config", cfg}, args...)...)
		if r.Code != 2 {
			t.Errorf("%v: want exit 2\n%s", args, r)
		}
	}
	// A transform that does not compile against the live schema: exit 2,
	// naming the column; a side that cannot be reached: exit 3.
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bad := writeFile(t, "bad.yaml", strings.Replace(string(data), `split_part(name, " ", 0)`, `split_part(nmae, " ", 0)`, 1))
	if r := runBgsync(t, time.Minute, "check-transforms", "--config", bad); r.Code != 2 || !strings.Contains(r.Stderr, "nmae") {
		t.Errorf("bad expression: want exit 2 naming nmae\n%s", r)
	}
	green := regexp.MustCompile(`(?m)^green: .*$`)
	away := writeFile(t, "away.yaml", green.ReplaceAllString(string(data),
		fmt.Sprintf("green: {engine: postgres, dsn: %q}", withHost(greenAdminDSN, "127.0.0.1:1"))))
	if r := runBgsync(t, time.Minute, "check-transforms", "--config", away); r.Code != 3 || !strings.Contains(r.Stderr, "green") {
		t.Errorf("unreachable green: want exit 3 naming green\n%s", r)
	}
}

// TestCheckTransformsLossy: email lower-cased on the way to green, names
// split at the first space only in spirit (a double space and a two-word
// first name do not come back), and attrs text that is not JSON, which
// green's jsonb column cannot take: exit 1, and the report names the table, key, column, values and
// expressions of each.
func TestCheckTransformsLossy(t *testing.T) {
	cfg := newCheckTransformsDB(t, "ct_lossy", "lower(email)",
		`INSERT INTO customers VALUES
	(1, 'ada@example.com', 'Ada Lovelace', 1250, NULL, NULL),
	(2, 'Grace@Example.com', 'Grace Hopper', 99, NULL, NULL),
	(3, 'alan@example.com', 'Alan  Turing', 10, NULL, NULL),
	(4, 'edsger@example.com', 'Edsger Dijkstra', 7, 'not json', NULL);`,
		`INSERT INTO clients VALUES
	(10, 'mary@example.com', 'Mary Ann', 'Evans', 1, NULL),
	(11, 'ok@example.com', 'Ok', 'Fine', 2, NULL);`)

	r, rep := runCheckTransforms(t, cfg)
	if r.Code != 1 || rep.Status != "lossy" {
		t.Fatalf("want exit 1 and status lossy, got exit %d, status %q\n%s", r.Code, rep.Status, r)
	}
	type sample struct{ key, column, orig, after string }
	got := map[string][]sample{}
	for _, c := range rep.Checks {
		for _, s := range c.Samples {
			x := sample{key: s.Key, column: s.Column}
			if s.Original != nil {
				x.orig = *s.Original
			}
			if s.RoundTrip != nil {
				x.after = *s.RoundTrip
			}
			if s.Error != "" {
				x.after = "error in " + s.Transform + " to " + s.Target
			}
			got[c.From] = append(got[c.From], x)
			if len(s.Expressions) == 0 {
				t.Errorf("from %s: sample %+v names no expression", c.From, s)
			}
		}
		t.Logf("from %s: %d rows checked, %d lossy (%d failed), columns %v", c.From, c.RowsChecked, c.LossyRows, c.FailedRows, c.LossyColumns)
	}
	blue := rep.Checks[0]
	if blue.From != "blue" || blue.RowsChecked != 4 || blue.LossyRows != 3 || blue.FailedRows != 1 ||
		blue.LossyColumns["email"] != 1 || blue.LossyColumns["name"] != 1 {
		t.Errorf("from blue: want 4 rows, 3 lossy (email 1, name 1, 1 failed), got %+v", blue)
	}
	wantBlue := []sample{{"id=2", "email", "Grace@Example.com", "grace@example.com"}, {"id=3", "name", "Alan  Turing", "Alan Turing"},
		{"id=4", "attrs", "", "error in blue_to_green to public.clients"}}
	if fmt.Sprint(got["blue"]) != fmt.Sprint(wantBlue) {
		t.Errorf("from blue: samples\n got %v\nwant %v", got["blue"], wantBlue)
	}
	green := rep.Checks[1]
	if green.From != "green" || green.Source != "public.clients" || green.RowsChecked != 2 || green.LossyRows != 1 {
		t.Errorf("from green: want 2 rows, 1 lossy, got %+v", green)
	}
	wantGreen := []sample{{"id=10", "first_name", "Mary", ""}, {"id=10", "last_name", "Evans", ""}}
	wantGreen[0].orig, wantGreen[0].after = "Mary Ann", "Mary"
	wantGreen[1].after = "Ann Evans"
	if fmt.Sprint(got["green"]) != fmt.Sprint(wantGreen) {
		t.Errorf("from green: samples\n got %v\nwant %v", got["green"], wantGreen)
	}

	// The text report names table, key, column, values and expressions.
	r = runBgsync(t, 2*time.Minute, "check-transforms", "--config", cfg, "--tables", "customers")
	if r.Code != 1 {
		t.Fatalf("text: want exit 1\n%s", r)
	}
	t.Logf("text report:\n%s", r.Stdout)
	for _, s := range []string{
		`public.customers id=2 email: "Grace@Example.com" → "grace@example.com"`,
		`blue_to_green set email_address = lower(email)`,
		`green_to_blue rename email_address → email`,
		`public.customers id=3 name: "Alan  Turing" → "Alan Turing"`,
		`blue_to_green set last_name = trim(join(split(name, " ")[1:], " "))`,
		`green_to_blue set name = trim(first_name + " " + last_name)`,
		`public.customers id=4: blue_to_green at public.clients.attrs failed`,
		`public.clients id=10 first_name: "Mary Ann" → "Mary"`,
		`blue→green→blue: 4 rows checked, 3 lossy`,
		"2 checks found lossy rows",
	} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("text report lacks %q\n%s", s, r.Stdout)
		}
	}
	if !strings.Contains(r.Stderr, "lossy") {
		t.Errorf("stderr does not say why the exit code is 1\n%s", r)
	}
}
