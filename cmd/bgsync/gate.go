package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/bgsync/bgsync/gate"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/verify"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
)

// verifyCache keeps the last verify run read for two seconds, so a burst
// of gate polls does not open connections to the databases each time.
type verifyCache struct {
	mu   sync.Mutex
	at   time.Time
	v    gate.Verify
	err  error
	read func(context.Context) (gate.Verify, error)
}

func (c *verifyCache) get(ctx context.Context) (gate.Verify, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) < 2*time.Second {
		return c.v, c.err
	}
	c.v, c.err = c.read(ctx)
	c.at = time.Now()
	return c.v, c.err
}

// lastVerify reads the newest run in verify_runs on the target sides.
func (a *app) lastVerify(ctx context.Context) (gate.Verify, error) {
	var best gate.Verify
	var errs []error
	for _, d := range a.directions() {
		read := a.lastVerifyPg
		if a.binlog(d[1]) {
			read = a.lastVerifyMy
		}
		v, found, err := read(ctx, d[1])
		switch {
		case err != nil:
			errs = append(errs, err)
		case !found:
		case !best.Known || v.Finished.After(best.Finished):
			v.Known = true
			best = v
		}
	}
	if best.Known {
		return best, nil
	}
	return best, errors.Join(errs...)
}

// lastVerifyPg reads the newest run on a PostgreSQL side.
func (a *app) lastVerifyPg(ctx context.Context, side config.Side) (gate.Verify, bool, error) {
	conn, err := a.connect(ctx, side)
	if err != nil {
		return gate.Verify{}, false, err
	}
	defer conn.Close(context.Background())
	var v gate.Verify
	var consistent *time.Time
	var tables []verify.Table
	runs := pgx.Identifier{a.cfg.Name}.Sanitize() + `.verify_runs`
	err = conn.QueryRow(ctx, `SELECT finished_at, status,
	(SELECT coalesce(array_agg(t->>'table' ORDER BY t->>'table'), '{}') FROM jsonb_array_elements(report->'tables') t
	 WHERE coalesce((t->>'missing_on_green')::bigint + (t->>'missing_on_blue')::bigint + (t->>'different')::bigint, 0) > 0),
	(SELECT max(finished_at) FROM `+runs+` WHERE status = 'consistent'),
	coalesce(report->'tables', '[]')
FROM `+runs+` ORDER BY finished_at DESC LIMIT 1`).Scan(&v.Finished, &v.Status, &v.Divergent, &consistent, &tables)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return v, false, nil
	case err != nil:
		return v, false, fmt.Errorf("%s: %s", side, scrubAll(err.Error()))
	}
	if consistent != nil {
		v.LastConsistent = *consistent
	}
	for _, t := range tables {
		v.Tables = append(v.Tables, gate.TableRows{Table: t.Name, Rows: t.Classes()})
	}
	return v, true, nil
}

// lastVerifyMy reads the newest run on a MariaDB/MySQL side; the
// divergent tables are found in Go, from the report.
func (a *app) lastVerifyMy(ctx context.Context, side config.Side) (gate.Verify, bool, error) {
	db, err := a.openMy(ctx, side)
	if err != nil {
		return gate.Verify{}, false, err
	}
	defer db.Close()
	runs := "`" + strings.ReplaceAll(a.cfg.Name, "`", "``") + "`.verify_runs"
	const stamp = "'%Y-%m-%d %H:%i:%s.%f'"
	var v gate.Verify
	var finished, report string
	var consistent sql.NullString
	err = db.QueryRowContext(ctx, `SELECT DATE_FORMAT(finished_at, `+stamp+`), status, report,
	(SELECT DATE_FORMAT(MAX(finished_at), `+stamp+`) FROM `+runs+` WHERE status = 'consistent')
FROM `+runs+` ORDER BY finished_at DESC, id DESC LIMIT 1`).Scan(&finished, &v.Status, &report, &consistent)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return v, false, nil
	case err != nil:
		return v, false, fmt.Errorf("%s: %s", side, scrubAll(err.Error()))
	}
	if v.Finished, err = time.ParseInLocation("2006-01-02 15:04:05.000000", finished, time.UTC); err != nil {
		return v, false, fmt.Errorf("%s: verify_runs.finished_at %q: %w", side, finished, err)
	}
	if consistent.Valid {
		if v.LastConsistent, err = time.ParseInLocation("2006-01-02 15:04:05.000000", consistent.String, time.UTC); err != nil {
			return v, false, fmt.Errorf("%s: verify_runs.finished_at %q: %w", side, consistent.String, err)
		}
	}
	var rep struct {
		Tables []verify.Table `json:"tables"`
	}
	if err := json.Unmarshal([]byte(report), &rep); err != nil {
		return v, false, fmt.Errorf("%s: verify_runs.report: %w", side, err)
	}
	v.Divergent = []string{}
	for _, t := range rep.Tables {
		if t.Divergent() {
			v.Divergent = append(v.Divergent, t.Name)
		}
		v.Tables = append(v.Tables, gate.TableRows{Table: t.Name, Rows: t.Classes()})
	}
	sort.Strings(v.Divergent)
	return v, true, nil
}

func (a *app) gateThresholds() gate.Thresholds {
	g := a.cfg.Gates
	return gate.Thresholds{MaxLag: g.MaxLag.Std(), VerifyMaxAge: g.VerifyMaxAge.Std(), ErrorWindow: g.ErrorWindow.Std()}
}

// endpoint is the base URL of the running bgsync's HTTP server.
func (a *app) endpoint() (string, error) {
	host, port, err := net.SplitHostPort(a.cfg.HTTP.Listen)
	if err != nil {
		return "", fmt.Errorf("http.listen %q: %w", a.cfg.HTTP.Listen, err)
	}
	if port == "0" {
		return "", fmt.Errorf("http.listen %q picks a port at random; give it a fixed port to reach bgsync run", a.cfg.HTTP.Listen)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// get fetches path from the running bgsync, with the bearer token if set.
func (a *app) get(ctx context.Context, path string) ([]byte, error) {
	base, err := a.endpoint()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return nil, err
	}
	if tok := strings.TrimSpace(os.Getenv(httpTokenEnv)); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach bgsync run at %s (is it running?): %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

func newGateCmd(g *globalFlags) *cobra.Command {
	var wait bool
	var timeout, maxLag, verifyMaxAge, errorWindow time.Duration
	var output string
	cmd := &cobra.Command{
		Use:   "gate cutover|rollback",
		Short: "Say whether cutover or rollback is safe now (asks bgsync run)",
		Long: `gate asks the running bgsync (on http.listen) whether moving the application
from blue to green (cutover) or back (rollback) is safe now, and prints the
verdict with every unmet condition and its figure.

Cutover is safe when blue-to-green runs with lag at most gates.max_lag,
green-to-blue runs (so a rollback would lose nothing), the last bgsync verify
is at most gates.verify_max_age old and found no divergence, no conflict is
unresolved, and no direction failed within gates.error_window. Rollback is
the mirror. Flags override the configured thresholds.

--wait polls every 2s until the gate passes or --timeout ends.

Exit codes: 0 safe, 1 not safe (FAIL), 2 usage, 3 cannot measure (bgsync run
unreachable, or PENDING: a figure is not known yet).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := gate.ParseKind(args[0])
			if err != nil {
				return withCode(exitUsage, err)
			}
			if output != "text" && output != "json" {
				return withCode(exitUsage, fmt.Errorf("--output %q: use text or json", output))
			}
			a, err := load(g.config, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			q := url.Values{}
			for name, d := range map[string]time.Duration{"max_lag": maxLag, "verify_max_age": verifyMaxAge, "error_window": errorWindow} {
				if d > 0 {
					q.Set(name, d.String())
				}
			}
			path := "/v1/gate/" + string(kind)
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			deadline := time.Now().Add(timeout)
			for {
				ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
				body, err := a.get(ctx, path)
				cancel()
				var v gate.Verdict
				if err == nil {
					err = json.Unmarshal(body, &v)
				}
				if err != nil {
					return withCode(exitNoMeasure, err)
				}
				if !wait || v.Safe || time.Now().After(deadline) {
					printVerdict(cmd.OutOrStdout(), v, output, body)
					switch v.Status {
					case gate.Pass:
						return nil
					case gate.Fail:
						return withCode(exitCheckFailed, fmt.Errorf("%s is not safe", kind))
					}
					return withCode(exitNoMeasure, fmt.Errorf("%s: %s", kind, v.Status))
				}
				select {
				case <-cmd.Context().Done():
					return withCode(exitNoMeasure, cmd.Context().Err())
				case <-time.After(2 * time.Second):
				}
			}
		},
	}
	f := cmd.Flags()
	f.BoolVar(&wait, "wait", false, "poll until the gate passes or --timeout")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "with --wait, give up after this long")
	f.DurationVar(&maxLag, "max-lag", 0, "override gates.max_lag")
	f.DurationVar(&verifyMaxAge, "verify-max-age", 0, "override gates.verify_max_age")
	f.DurationVar(&errorWindow, "error-window", 0, "override gates.error_window")
	f.StringVar(&output, "output", "text", "text or json")
	return cmd
}

func printVerdict(w io.Writer, v gate.Verdict, output string, raw []byte) {
	if output == "json" {
		w.Write(raw)
		return
	}
	fmt.Fprintf(w, "%s: %s\n", v.Gate, v.Status)
	for _, r := range v.Reasons {
		fmt.Fprintf(w, "  - %s\n", r)
	}
	keys := make([]string, 0, len(v.Figures))
	for k := range v.Figures {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s = %v\n", k, v.Figures[k])
	}
}

func newStatusCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the running bgsync's directions: state, lag, counts, conflicts",
		Long: `status asks the running bgsync (on http.listen) for /v1/status and prints one
line per direction. Exit code 0, or 3 when bgsync run cannot be reached.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load(g.config, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			body, err := a.get(cmd.Context(), "/v1/status")
			if err != nil {
				return withCode(exitNoMeasure, err)
			}
			var st struct {
				Version    string `json:"version"`
				Ready      bool   `json:"ready"`
				Directions []struct {
					Name       string  `json:"name"`
					State      string  `json:"state"`
					Restarts   int     `json:"restarts"`
					LastError  string  `json:"last_error"`
					Checkpoint string  `json:"checkpoint"`
					Lag        float64 `json:"lag_seconds"`
					LagP99     float64 `json:"lag_p99_seconds"`
					Retained   int64   `json:"source_retained_bytes"`
					Applied    struct {
						Transactions uint64 `json:"transactions"`
					} `json:"applied"`
					Echo      uint64 `json:"echo_dropped"`
					Conflicts []struct {
						Count uint64 `json:"count"`
					} `json:"conflicts"`
					Unresolved int64 `json:"unresolved_conflicts"`
				} `json:"directions"`
				LastVerify *struct {
					Finished  time.Time `json:"finished"`
					Status    string    `json:"status"`
					Divergent []string  `json:"divergent_tables"`
				} `json:"last_verify"`
			}
			if err := json.Unmarshal(body, &st); err != nil {
				return withCode(exitNoMeasure, err)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DIRECTION\tSTATE\tLAG\tLAG P99\tWAL RETAINED\tAPPLIED TXNS\tECHO DROPPED\tCONFLICTS\tUNRESOLVED\tRESTARTS\tCHECKPOINT\tLAST ERROR")
			for _, d := range st.Directions {
				var conflicts uint64
				for _, c := range d.Conflicts {
					conflicts += c.Count
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", d.Name, d.State,
					secs(d.Lag), secs(d.LagP99), sizeIEC(d.Retained), d.Applied.Transactions, d.Echo, conflicts, d.Unresolved, d.Restarts, d.Checkpoint,
					firstLineOf(d.LastError))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "bgsync %s; ready: %v\n", st.Version, st.Ready)
			if lv := st.LastVerify; lv != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "last verify: %s, %s ago", lv.Status, time.Since(lv.Finished).Round(time.Second))
				if len(lv.Divergent) > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), " (divergent: %s)", strings.Join(lv.Divergent, ", "))
				}
				fmt.Fprintln(cmd.OutOrStdout())
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "last verify: none recorded")
			}
			return nil
		},
	}
}

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if s == "" {
		return "-"
	}
	return s
}

// sizeIEC writes n bytes as "512 B", "3.2 MiB".
func sizeIEC(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
