package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
)

func newConflictsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "conflicts",
		Short: "List and resolve the conflicts bgsync logged",
		Long: `Every write-write conflict bgsync detects is logged in the conflicts table of
bgsync's schema on the side where it was found (on a MariaDB/MySQL side, the
conflicts table of the database named like the config), with both row images,
both commit times, the policy and the decision. Conflicts of tables under the
manual policy stay unresolved (and the target row as it was) until resolved
here.`,
		Args: noArgs,
	}
	cmd.AddCommand(newConflictsListCmd(g), newConflictsResolveCmd(g))
	return cmd
}

func newConflictsListCmd(g *globalFlags) *cobra.Command {
	var all bool
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List unresolved conflicts (--all: every conflict)",
		Long: `list prints the conflicts logged on both sides, unresolved ones only unless
--all is given. IDs are "<side>:<n>", the side being where the conflict was
found (the target of its direction). Keys print as PostgreSQL prints a jsonb,
on either engine. Exit code 0, or 2 when a side cannot be reached.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load(g.config, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if output != "text" && output != "json" {
				return withCode(exitUsage, fmt.Errorf("--output %q: use text or json", output))
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			list, err := a.listConflicts(ctx, all)
			if err != nil {
				return withCode(exitUsage, err)
			}
			return printConflicts(cmd.OutOrStdout(), list, output)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "list resolved conflicts too")
	cmd.Flags().StringVar(&output, "output", "text", "text or json")
	return cmd
}

func newConflictsResolveCmd(g *globalFlags) *cobra.Command {
	var ids []string
	var all bool
	var keep string
	cmd := &cobra.Command{
		Use:   "resolve (--id SIDE:N ... | --all) --keep blue|green|current",
		Short: "Resolve unresolved conflicts by picking a side or accepting the current state",
		Long: `resolve settles unresolved conflicts, row by row (a row with several
conflicts on either side is settled once, and all of them are marked resolved):

  --keep blue     copy blue's current row (or its absence) to green
  --keep green    copy green's current row (or its absence) to blue
  --keep current  change nothing; mark them resolved (the rows were settled by
                  hand, or the difference is accepted)

The copy is not captured and sent back: on PostgreSQL it is written with
bgsync's replication origin, on MariaDB in a session with skip_replication=1,
on MySQL in transactions that write bgsync's apply_marker row first. Between
MariaDB/MySQL and PostgreSQL the row's values are converted as the sync
converts them (TINYINT(1) and boolean, DATETIME and timestamptz through UTC,
JSON). Tables with transforms are refused for --keep blue|green. Exit code 0
when everything selected was resolved, 2 on bad usage or when a side cannot be
reached.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load(g.config, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if all == (len(ids) > 0) {
				return withCode(exitUsage, errors.New("give --all or one or more --id SIDE:N"))
			}
			if keep != "blue" && keep != "green" && keep != "current" {
				return withCode(exitUsage, fmt.Errorf("--keep %q: use blue, green or current", keep))
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			n, err := a.resolveConflicts(ctx, ids, keep)
			if err != nil {
				return withCode(exitUsage, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "resolved %d rows (keep %s)\n", n, keep)
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&ids, "id", nil, "conflict to resolve, as SIDE:N (repeatable)")
	cmd.Flags().BoolVar(&all, "all", false, "resolve every unresolved conflict")
	cmd.Flags().StringVar(&keep, "keep", "", "blue, green or current")
	return cmd
}

// loggedConflict is one row of a conflicts table.
type loggedConflict struct {
	ID         string          `json:"id"`
	Side       string          `json:"side"`
	DetectedAt time.Time       `json:"detected_at"`
	Direction  string          `json:"direction"`
	Table      string          `json:"table"`
	Key        json.RawMessage `json:"key"`
	Kind       string          `json:"kind"`
	Policy     string          `json:"policy"`
	Resolution string          `json:"resolution"`
	Reason     string          `json:"reason"`
	Resolved   bool            `json:"resolved"`
}

func (a *app) listConflicts(ctx context.Context, all bool) ([]loggedConflict, error) {
	var out []loggedConflict
	for _, side := range []config.Side{config.Blue, config.Green} {
		read := a.listConflictsPG
		if a.binlog(side) {
			read = a.listConflictsMy
		}
		list, err := read(ctx, side, all)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

// listConflictsPG reads the conflicts table of a PostgreSQL side.
func (a *app) listConflictsPG(ctx context.Context, side config.Side, all bool) ([]loggedConflict, error) {
	var out []loggedConflict
	conn, err := a.connect(ctx, side)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	q := `SELECT id, detected_at, direction, table_name, key::text, kind, policy, resolution, reason, resolved FROM ` +
		pgx.Identifier{a.cfg.Name}.Sanitize() + `.conflicts`
	if !all {
		q += ` WHERE NOT resolved`
	}
	rows, err := conn.Query(ctx, q+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("%s: read conflicts: %w", side, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c loggedConflict
		var id int64
		var key string
		if err := rows.Scan(&id, &c.DetectedAt, &c.Direction, &c.Table, &key, &c.Kind, &c.Policy, &c.Resolution, &c.Reason, &c.Resolved); err != nil {
			return nil, fmt.Errorf("%s: read conflicts: %w", side, err)
		}
		c.ID, c.Side, c.Key = string(side)+":"+strconv.FormatInt(id, 10), string(side), json.RawMessage(key)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: read conflicts: %w", side, err)
	}
	return out, nil
}

func printConflicts(w io.Writer, list []loggedConflict, output string) error {
	if output == "json" {
		if list == nil {
			list = []loggedConflict{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDETECTED\tTABLE\tKEY\tKIND\tPOLICY\tRESOLUTION\tREASON")
	for _, c := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.DetectedAt.UTC().Format(time.RFC3339), c.Table,
			string(c.Key), c.Kind, c.Policy, c.Resolution, c.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d conflicts\n", len(list))
	return err
}

// rowRef is one row to settle: a table and a key (JSON of column → text).
type rowRef struct{ table, key string }

func (a *app) resolveConflicts(ctx context.Context, ids []string, keep string) (int, error) {
	list, err := a.listConflicts(ctx, false)
	if err != nil {
		return 0, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var refs []rowRef
	seen := map[rowRef]bool{}
	for _, c := range list {
		if len(want) > 0 && !want[c.ID] {
			continue
		}
		delete(want, c.ID)
		r := rowRef{table: c.Table, key: string(c.Key)}
		if !seen[r] {
			seen[r] = true
			refs = append(refs, r)
		}
	}
	if len(want) > 0 {
		var missing []string
		for id := range want {
			missing = append(missing, id)
		}
		return 0, fmt.Errorf("no unresolved conflict with id %s", strings.Join(missing, ", "))
	}
	if a.anyBinlog() {
		return a.resolveEngines(ctx, refs, keep)
	}
	conns := map[config.Side]*pgx.Conn{}
	defer func() {
		for _, c := range conns {
			c.Close(context.Background())
		}
	}()
	for _, side := range []config.Side{config.Blue, config.Green} {
		c, err := a.connect(ctx, side)
		if err != nil {
			return 0, err
		}
		conns[side] = c
	}
	if keep != "current" {
		to := config.Side(keep).Other()
		if err := a.useResolveOrigin(ctx, conns[to]); err != nil {
			return 0, fmt.Errorf("%s: %w", to, err)
		}
	}
	for n, r := range refs {
		if err := a.settleRow(ctx, conns, r, keep); err != nil {
			return n, fmt.Errorf("table %s key %s: %w", r.table, r.key, err)
		}
	}
	return len(refs), nil
}

// useResolveOrigin tags conn with bgsync's resolve origin, so the captures
// drop what it writes.
func (a *app) useResolveOrigin(ctx context.Context, conn *pgx.Conn) error {
	origin := a.originPrefix() + "resolve"
	if _, err := applypg.UseOrigin(ctx, conn, origin); err != nil {
		return fmt.Errorf("replication origin %s: %w", origin, err)
	}
	return nil
}

// settleRow copies the kept side's row to the other side (or changes
// nothing for "current") and marks the row's conflicts resolved on both
// sides.
func (a *app) settleRow(ctx context.Context, conns map[config.Side]*pgx.Conn, r rowRef, keep string) error {
	schema := pgx.Identifier{a.cfg.Name}.Sanitize()
	mark := `UPDATE ` + schema + `.conflicts SET resolved = true, resolved_at = now(), resolved_by = $3
WHERE NOT resolved AND table_name = $1 AND key = $2::jsonb`
	by := "bgsync conflicts resolve --keep " + keep
	if keep == "current" {
		for _, side := range []config.Side{config.Blue, config.Green} {
			if _, err := conns[side].Exec(ctx, mark, r.table, r.key, by); err != nil {
				return fmt.Errorf("%s: %w", side, err)
			}
		}
		return nil
	}
	from := config.Side(keep)
	to := from.Other()
	t, err := a.settledTable(r, keep)
	if err != nil {
		return err
	}
	table := pgx.Identifier{t.Schema, t.Name}.Sanitize()
	match, args, err := keyMatch(table, r.key)
	if err != nil {
		return err
	}
	var row *string
	err = conns[from].QueryRow(ctx, `SELECT to_jsonb(t)::text FROM `+table+` t WHERE `+match, args...).Scan(&row)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: read row: %w", from, err)
	}
	tx, err := conns[to].Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", to, err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `DELETE FROM `+table+` t WHERE `+match, args...); err != nil {
		return fmt.Errorf("%s: delete row: %w", to, err)
	}
	if row != nil {
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` SELECT * FROM jsonb_populate_record(NULL::`+table+`, $1::jsonb)`, *row); err != nil {
			return fmt.Errorf("%s: write row: %w", to, err)
		}
	}
	if _, err := tx.Exec(ctx, mark, r.table, r.key, by); err != nil {
		return fmt.Errorf("%s: %w", to, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: %w", to, err)
	}
	if _, err := conns[from].Exec(ctx, mark, r.table, r.key, by); err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	return nil
}

// settledTable is the table of r that --keep copies between the sides:
// one that has the same name on both and no transforms.
func (a *app) settledTable(r rowRef, keep string) (change.Table, error) {
	from := config.Side(keep)
	to := from.Other()
	var table change.Table
	found := false
	for _, entry := range a.cfg.TableList {
		t, err := entry.On(from)
		if err != nil || t.String() != r.table {
			continue
		}
		if other, _ := entry.On(to); other != t || entry.Transforms.BlueToGreen != nil || entry.Transforms.GreenToBlue != nil {
			return table, fmt.Errorf("%s is mapped between schema versions: --keep %s would copy a row of one shape into the other; "+
				"correct the row on %s by hand, then resolve with --keep current", r.table, keep, to)
		}
		table, found = t, true
	}
	if !found {
		return table, fmt.Errorf("%s is not a synced table of this config", r.table)
	}
	return table, nil
}

// keyMatch turns a logged key (JSON of column → text) into a WHERE clause
// on table (alias t) and its argument. The key's texts are read into the
// columns' own types by jsonb_populate_record, so the primary key index
// serves the match.
func keyMatch(table, key string) (string, []any, error) {
	var cols map[string]*string
	if err := json.Unmarshal([]byte(key), &cols); err != nil || len(cols) == 0 {
		return "", nil, fmt.Errorf("unreadable key %s", key)
	}
	names := make([]string, 0, len(cols))
	for c := range cols {
		if cols[c] == nil {
			return "", nil, fmt.Errorf("key column %s is NULL", c)
		}
		names = append(names, pgx.Identifier{c}.Sanitize())
	}
	sort.Strings(names)
	list := func(prefix string) string {
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = prefix + n
		}
		return strings.Join(q, ", ")
	}
	return fmt.Sprintf("(%s) = (SELECT %s FROM jsonb_populate_record(NULL::%s, $1::jsonb) k)", list("t."), list("k."), table),
		[]any{key}, nil
}
