package mysql

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgsync/bgsync/change"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// The source sends a heartbeat event after heartbeatPeriod without events;
// a connection silent for readTimeout is taken for dead and Run fails.
const (
	heartbeatPeriod = 2 * time.Second
	readTimeout     = 15 * time.Second
)

// Capture reads one server's binlog. Create it with New, run it with Run,
// tell it what the target has applied with Ack.
type Capture struct {
	cfg    Config
	filter *filter
	acked  atomic.Uint64
	// start is where Run starts while nothing is acked: Config.Start, or
	// the server's position at the first Run (kept, so that a restarted Run
	// does not skip what the first one read but the target never got).
	start atomic.Uint64
	// started is set once Run streams (for tests).
	started atomic.Bool

	mu    sync.Mutex
	stats Stats
}

// Stats is a snapshot of what a capture has seen.
type Stats struct {
	Txns, Rows         uint64 // handed on
	EchoTxns, EchoRows uint64 // dropped as bgsync's own writes (skip_replication)
	// Empty counts transactions read with no change on a captured table.
	Empty uint64
	// Read is the end of the last transaction read, captured or not.
	Read       change.Position
	LastCommit time.Time
	// CaptureLag is how long after its source commit the last transaction
	// handed on was read (the source's clock against this host's, to the
	// second: the binlog keeps commit times in whole seconds).
	CaptureLag time.Duration
}

// New checks the config and returns a capture that has not connected yet.
func New(cfg Config) (*Capture, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Capture{cfg: cfg.withDefaults(), filter: newFilter(&cfg)}
	c.start.Store(uint64(cfg.Start))
	return c, nil
}

// Ack records that every transaction at or below pos is durably applied on
// the target; Run (re)starts after the highest position acknowledged. It
// may be called from any goroutine; positions below one already
// acknowledged are ignored.
func (c *Capture) Ack(pos change.Position) {
	for {
		cur := c.acked.Load()
		if uint64(pos) <= cur || c.acked.CompareAndSwap(cur, uint64(pos)) {
			return
		}
	}
}

// Stats returns counters since New.
func (c *Capture) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Run streams committed transactions to out until ctx is cancelled (it
// then returns ctx.Err()) or an error occurs. It does not reconnect by
// itself. See the package documentation for the contract.
func (c *Capture) Run(ctx context.Context, out chan<- *change.Txn) error {
	dsn, _ := parseDSN(c.cfg.DSN) // checked by New
	var domain *uint32
	if c.cfg.GTID {
		domain = &c.cfg.GTIDDomain
	}
	cur, base, err := currentPosition(ctx, c.cfg.DSN, domain)
	if err != nil {
		return err
	}
	start := change.Position(c.acked.Load())
	if start == 0 {
		c.start.CompareAndSwap(0, uint64(cur))
		start = change.Position(c.start.Load())
	}
	form := Form{Base: base, GTID: c.cfg.GTID, Domain: c.cfg.GTIDDomain}
	syncer := replication.NewBinlogSyncer(c.syncerConfig(dsn.Net, dsn.Addr, dsn.User, dsn.Passwd, dsn.TLS))
	defer syncer.Close()
	streamer, err := c.startSync(syncer, start, base)
	if err != nil {
		return sourceError(fmt.Sprintf("start binlog stream of %s at %s", dsn.Addr, form.Format(start)), err)
	}
	c.started.Store(true)
	defer c.started.Store(false)
	c.cfg.Logger.Info("capture started", "source", dsn.Addr, "position", form.Format(start))

	d := newDecoder(c.filter, form, start, c.cfg.AcceptSchemaChangeThrough)
	for {
		ev, err := streamer.GetEvent(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return sourceError("read binlog of "+dsn.Addr+" after "+form.Format(max(start, d.stats.read)), err)
		}
		txn, err := d.handle(ev)
		if err != nil {
			c.publishStats(d)
			return err
		}
		if !d.inTxn() { // at a transaction boundary, not per row
			c.publishStats(d)
		}
		if txn != nil {
			select {
			case out <- txn:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// startSync starts the stream right after start: at its file and offset,
// or, for a GTID position, after that GTID (MariaDB's slave_connect_state;
// the zero GTID streams from the oldest binary log).
func (c *Capture) startSync(syncer *replication.BinlogSyncer, start change.Position, base string) (*replication.BinlogStreamer, error) {
	if !IsGTID(start) {
		return syncer.StartSync(gomysql.Position{Name: fileName(base, uint32(start>>32)), Pos: uint32(start)})
	}
	g := gtidOf(start, c.cfg.GTIDDomain)
	text := ""
	if g.Seq != 0 {
		text = g.String()
	}
	set, err := gomysql.ParseMariadbGTIDSet(text)
	if err != nil {
		return nil, err
	}
	return syncer.StartSyncGTID(set)
}

func (c *Capture) publishStats(d *decoder) {
	s := &d.stats
	c.mu.Lock()
	c.stats = Stats{Txns: s.txns, Rows: s.rows, EchoTxns: s.echoTxns, EchoRows: s.echoRows, Empty: s.empty,
		Read: s.read, LastCommit: s.lastCommit, CaptureLag: s.captureLag}
	c.mu.Unlock()
}

func (c *Capture) syncerConfig(network, addr, user, pass string, tlsConfig *tls.Config) replication.BinlogSyncerConfig {
	const eventCache = 64
	cfg := replication.BinlogSyncerConfig{
		ServerID: c.cfg.ServerID,
		Flavor:   c.cfg.Flavor,
		User:     user,
		Password: pass,
		// DATETIME and TIMESTAMP as time.Time: TIMESTAMP is an instant,
		// DATETIME is built in UTC from its fields, so the local zone of
		// this host never enters; TimestampStringLocation pins the text
		// form too, should ParseTime ever be turned off.
		ParseTime:               true,
		TimestampStringLocation: time.UTC,
		RenderJSONAsMySQLText:   true,
		HeartbeatPeriod:         heartbeatPeriod,
		ReadTimeout:             readTimeout,
		// Errors end Run; the pipeline restarts it from the acked position.
		DisableRetrySync: true,
		// go-mysql buffers this many decoded events ahead of Run (10240 by
		// default: with 1000-row events, over a GiB on a backlog). The
		// pipeline's own queues are what absorb bursts.
		EventCacheCount: eventCache,
		Localhost:       "bgsync",
		TLSConfig:       tlsConfig,
		Logger:          slog.New(minLevel{h: c.cfg.Logger.Handler().WithAttrs([]slog.Attr{slog.String("component", "go-mysql")}), min: slog.LevelWarn}),
	}
	if network == "unix" {
		cfg.Host = addr
	} else {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			host, port = addr, "3306"
		}
		p, _ := strconv.ParseUint(port, 10, 16)
		cfg.Host, cfg.Port = host, uint16(p)
	}
	return cfg
}
