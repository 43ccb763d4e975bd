package config

import (
	"fmt"
	"github.com/bgsync/bgsync/conflict"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Limits Validate enforces.
const (
	MaxBatchRows  = 1_000_000
	MaxBatchDelay = 10 * time.Second
	// maxTopicPrefixLen keeps <prefix>.green under Kafka's 249 bytes.
	maxTopicPrefixLen = 200
)

var (
	nameRE        = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	topicPrefixRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
	logLevels     = []string{"debug", "info", "warn", "error"}
	logFormats    = []string{"json", "text"}
)

// Validate checks the whole configuration and reports every problem at
// once as an *Error, each with its key path and, for a parsed file, its
// line. Zero values that have defaults are valid. Validate reads dsn_file
// files but never connects to anything.
func (c *Config) Validate() error {
	d := *c
	d.ApplyDefaults()
	ps := &problems{meta: c.meta}
	d.checkName(ps)
	checkDatabase(ps, Blue, d.Blue)
	checkDatabase(ps, Green, d.Green)
	checkDirections(ps, d.Directions)
	checkKafka(ps, d.Kafka)
	checkTables(ps, d.TableList)
	checkApply(ps, d.Apply)
	checkSnapshot(ps, d.Snapshot)
	checkOneOf(ps, "log.level", d.Log.Level, logLevels)
	checkOneOf(ps, "log.format", d.Log.Format, logFormats)
	if msg := checkAddr(d.HTTP.Listen, true); msg != "" {
		ps.add("http.listen", "%s", msg)
	}
	for _, g := range []struct {
		key string
		v   Duration
	}{{"gates.max_lag", d.Gates.MaxLag}, {"gates.verify_max_age", d.Gates.VerifyMaxAge}, {"gates.error_window", d.Gates.ErrorWindow}} {
		if g.v < 0 {
			ps.add(g.key, "%s must not be negative", g.v)
		}
	}
	if h := d.Lag.HeartbeatInterval.Std(); h < MinHeartbeatInterval || h > MaxHeartbeatInterval {
		ps.add("lag.heartbeat_interval", "heartbeat_interval %s is out of range %s-%s", h, MinHeartbeatInterval, MaxHeartbeatInterval)
	}
	// File order; problems without a line (set by env vars) last.
	sort.SliceStable(ps.list, func(i, j int) bool {
		li, lj := ps.list[i].Line, ps.list[j].Line
		return li != 0 && (lj == 0 || li < lj)
	})
	return ps.err()
}

func (c *Config) checkName(ps *problems) {
	switch {
	case !nameRE.MatchString(c.Name):
		hint := ""
		if nameRE.MatchString(strings.ToLower(c.Name)) {
			hint = fmt.Sprintf(" (try %q)", strings.ToLower(c.Name))
		}
		ps.add("name", "invalid name %q: use lower-case letters, digits and _, starting with a letter; it becomes part of PostgreSQL identifiers%s", c.Name, hint)
	case len(c.Name) > MaxNameLen:
		ps.add("name", "name %q is %d bytes long, more than %d (slot and origin names derived from it must fit in 63)", c.Name, len(c.Name), MaxNameLen)
	}
}

func checkDatabase(ps *problems, side Side, db Database) {
	path := string(side)
	switch db.Engine {
	case EnginePostgres, EngineMariaDB, EngineMySQL:
	case "":
		ps.add(path+".engine", "engine is required (supported: %s)", supportedEngines)
	default:
		ps.add(path+".engine", "unknown engine %q (supported: %s)", db.Engine, supportedEngines)
	}
	env := "BGSYNC_" + strings.ToUpper(path) + "_DSN"
	switch {
	case db.DSN != "" && db.DSNFile != "":
		ps.add(path, "dsn and dsn_file are both set; set exactly one")
	case db.DSN == "" && db.DSNFile == "":
		ps.add(path, "a DSN is required: set dsn or dsn_file (or %s)", env)
	case db.DSN != "":
		if msg := checkDSN(db.Engine, string(db.DSN)); msg != "" {
			ps.add(path+".dsn", "%s", msg)
		}
	default:
		checkDSNFile(ps, path+".dsn_file", db)
	}
}

const supportedEngines = "postgres, mariadb, mysql"

func checkDSNFile(ps *problems, path string, db Database) {
	dsn, err := readDSNFile(db.DSNFile)
	if err != nil {
		ps.add(path, "%v", err)
		return
	}
	if msg := checkDSN(db.Engine, dsn); msg != "" {
		ps.add(path, "%s holds an %s", db.DSNFile, msg)
	}
}

func checkDirections(ps *problems, d Directions) {
	switch d {
	case BlueToGreen, GreenToBlue, Both:
	case "":
		ps.add("directions", "directions is required: %s, %s or %s", BlueToGreen, GreenToBlue, Both)
	default:
		ps.add("directions", "unknown directions %q: use %s, %s or %s", d, BlueToGreen, GreenToBlue, Both)
	}
}

func checkKafka(ps *problems, k Kafka) {
	if !k.Brokers.Embedded() {
		seen := map[string]int{}
		for i, b := range k.Brokers {
			path := fmt.Sprintf("kafka.brokers[%d]", i)
			if j, dup := seen[b]; dup {
				ps.add(path, "broker %q is listed twice (also kafka.brokers[%d])", b, j)
				continue
			}
			seen[b] = i
			switch {
			case b == EmbeddedBrokers:
				ps.add(path, "%q cannot be combined with broker addresses", EmbeddedBrokers)
			case b == "":
				ps.add(path, "empty broker address")
			default:
				if msg := checkAddr(b, false); msg != "" {
					ps.add(path, "%s", msg)
				}
			}
		}
	}
	switch p := k.TopicPrefix; {
	case !topicPrefixRE.MatchString(p):
		ps.add("kafka.topic_prefix", "invalid topic prefix %q: use letters, digits, '.', '_' and '-'", p)
	case len(p) > maxTopicPrefixLen:
		ps.add("kafka.topic_prefix", "topic prefix is %d bytes long, more than %d", len(p), maxTopicPrefixLen)
	}
	if p := k.Embedded.Port; p < 0 || p > 65535 {
		ps.add("kafka.embedded.port", "port %d is out of range 0-65535 (0 picks a free port)", p)
	}
}

func checkTables(ps *problems, tables []Table) {
	if len(tables) == 0 {
		ps.add("tables", "at least one table is required")
		return
	}
	seen := map[TableRef]int{}
	greens := map[TableRef]greenEntry{}
	for i, t := range tables {
		checkTableExtras(ps, i, t, greens)
		path := fmt.Sprintf("tables[%d].name", i)
		if strings.TrimSpace(t.Name) == "" {
			ps.add(path, "name is required")
			continue
		}
		ref, err := ParseTableName(t.Name)
		if err != nil {
			ps.add(path, "invalid table name: %v", err)
			continue
		}
		if j, dup := seen[ref]; dup {
			ps.add(path, "table %s is listed twice (also tables[%d])", ref, j)
			continue
		}
		seen[ref] = i
		checkConflict(ps, i, ref, t.Conflict)
		if bg, gb := t.Transforms.BlueToGreen, t.Transforms.GreenToBlue; t.Conflict.TimestampColumn != "" && bg != nil && gb != nil &&
			bg.Zone != "" && gb.Zone != "" && bg.Zone != gb.Zone {
			ps.add(TransformKey(i, Green)+".zone", "table %s: zone %s differs from blue_to_green's %s; the timestamp column %s is read in one zone on both sides, so both must say the same",
				ref, gb.Zone, bg.Zone, t.Conflict.TimestampColumn)
		}
	}
}

func checkConflict(ps *problems, i int, ref TableRef, c Conflict) {
	path := fmt.Sprintf("tables[%d].conflict", i)
	p, err := c.policy()
	if err != nil {
		ps.add(path+".policy", "table %s: %v", ref, err)
		return
	}
	if c.TimestampColumn != "" && p != conflict.LastWriterWins {
		ps.add(path+".timestamp_column", "table %s: timestamp_column applies to last-writer-wins only, not %s", ref, p)
	}
}

func checkSnapshot(ps *problems, s Snapshot) {
	if s.InitialLoad != InitialLoadOff && s.InitialLoad != InitialLoadAuto {
		ps.add("snapshot.initial_load", "initial_load %q: want off or auto", s.InitialLoad)
	}
	if s.From != Blue && s.From != Green {
		ps.add("snapshot.from", "from %q: want blue or green", s.From)
	}
	switch s.TargetNotEmpty {
	case "fail", "truncate", "merge":
	default:
		ps.add("snapshot.target_not_empty", "target_not_empty %q: want fail, truncate or merge", s.TargetNotEmpty)
	}
	if s.Workers < 1 || s.Workers > 64 {
		ps.add("snapshot.workers", "workers %d is out of range 1-64", s.Workers)
	}
	if s.ChunkRows < 100 || s.ChunkRows > 100_000_000 {
		ps.add("snapshot.chunk_rows", "chunk_rows %d is out of range 100-100000000", s.ChunkRows)
	}
	if s.MaxRowsPerSecond < 0 {
		ps.add("snapshot.max_rows_per_second", "max_rows_per_second %d is negative", s.MaxRowsPerSecond)
	}
}

func checkApply(ps *problems, a Apply) {
	if a.BatchRows < 1 || a.BatchRows > MaxBatchRows {
		ps.add("apply.batch_rows", "batch_rows %d is out of range 1-%d", a.BatchRows, MaxBatchRows)
	}
	switch d := a.BatchDelay.Std(); {
	case d < 0:
		ps.add("apply.batch_delay", "batch_delay %s is negative", d)
	case d > MaxBatchDelay:
		hint := ""
		if d%time.Minute == 0 {
			hint = fmt.Sprintf(" (did you mean %dms?)", d/time.Minute)
		}
		ps.add("apply.batch_delay", "batch_delay %s is longer than %s%s", d, MaxBatchDelay, hint)
	}
}

func checkOneOf(ps *problems, path, v string, allowed []string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	ps.add(path, "unknown value %q: use one of %s", v, strings.Join(allowed, ", "))
}

// checkAddr checks a host:port address; zeroPort allows port 0.
func checkAddr(addr string, zeroPort bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("invalid address %q: want host:port", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || (n == 0 && !zeroPort) {
		return fmt.Sprintf("invalid port %q in %q", port, addr)
	}
	if host == "" && !zeroPort {
		return fmt.Sprintf("missing host in %q", addr)
	}
	return ""
}

func (c Conflict) policy() (conflict.Policy, error) {
	if c.Policy == "" {
		return conflict.LastWriterWins, nil
	}
	return conflict.ParsePolicy(c.Policy)
}
