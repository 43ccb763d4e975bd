package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Capture reads one slot. Create it with New, run it with Run, tell it what
// the target has applied with Ack.
type Capture struct {
	cfg   Config
	acked atomic.Uint64

	mu    sync.Mutex
	stats Stats
}

// Stats is a snapshot of what a capture has seen.
type Stats struct {
	Txns, Rows         uint64 // handed on
	EchoTxns, EchoRows uint64 // dropped as bgsync's own writes
	Aborted            uint64 // streamed transactions aborted
	LastCommit         time.Time
	// CaptureLag is how long after its source commit the last transaction
	// handed on was read (the source host's clock against this one's).
	CaptureLag time.Duration
}

// New checks the config and returns a capture that has not connected yet.
func New(cfg Config) (*Capture, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Capture{cfg: cfg.withDefaults()}, nil
}

// Ack records that every transaction at or below pos is durably applied on
// the target. It may be called from any goroutine; positions below one
// already acknowledged are ignored.
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

// Run streams committed transactions to out until ctx is cancelled or an
// error occurs. See the package documentation for the contract.
func (c *Capture) Run(ctx context.Context, out chan<- *change.Txn) error {
	conn, err := connectReplication(ctx, c.cfg.DSN, c.cfg.WorkMem)
	if err != nil {
		return err
	}
	defer closeConn(conn)

	reg, err := loadTypes(ctx, conn)
	if err != nil {
		return err
	}
	args := []string{
		"proto_version '2'",
		"publication_names " + quoteLiteral(c.cfg.Publication),
		"streaming 'true'",
	}
	if err := pglogrepl.StartReplication(ctx, conn, c.cfg.Slot, 0, pglogrepl.StartReplicationOptions{PluginArgs: args}); err != nil {
		return &SourceError{Op: "start replication on slot " + c.cfg.Slot, Err: err}
	}
	c.cfg.Logger.Info("capture started", "slot", c.cfg.Slot, "publication", c.cfg.Publication)

	d := newDecoder(reg.decode, c.cfg.SkipOriginPrefix)
	st := &statusState{}
	nextStatus := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !time.Now().Before(nextStatus) {
			if err := c.sendStatus(ctx, conn, st); err != nil {
				return err
			}
			nextStatus = time.Now().Add(c.cfg.StatusInterval)
		}
		// A read deadline on the socket, not a context per message: pgconn
		// arms a watcher for every call made with a cancellable context,
		// which costs more than decoding the message. The deadline bounds
		// how long a cancelled ctx goes unnoticed.
		if err := conn.Conn().SetReadDeadline(nextStatus); err != nil {
			return &SourceError{Op: "set read deadline", Err: err}
		}
		raw, err := conn.ReceiveMessage(context.Background())
		if err != nil {
			if isTimeout(err) && ctx.Err() == nil {
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &SourceError{Op: "receive from slot " + c.cfg.Slot, Err: err}
		}
		switch msg := raw.(type) {
		case *pgproto3.ErrorResponse:
			return &SourceError{Op: "replication on slot " + c.cfg.Slot, Err: pgconn.ErrorResponseToPgError(msg)}
		case *pgproto3.CopyData:
			if len(msg.Data) == 0 {
				continue
			}
			switch msg.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(msg.Data[1:])
				if err != nil {
					return fmt.Errorf("slot %s: %w", c.cfg.Slot, err)
				}
				if !d.inTxn() {
					st.idle(change.Position(ka.ServerWALEnd), d.lastEmitted)
				}
				if ka.ReplyRequested {
					nextStatus = time.Now()
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(msg.Data[1:])
				if err != nil {
					return fmt.Errorf("slot %s: %w", c.cfg.Slot, err)
				}
				txn, err := d.handle(xld.WALData)
				if err != nil {
					return fmt.Errorf("slot %s at %s: %w", c.cfg.Slot, xld.WALStart, err)
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
	}
}

func (c *Capture) publishStats(d *decoder) {
	c.mu.Lock()
	c.stats = Stats{
		Txns: d.stats.txns, Rows: d.stats.rows, EchoTxns: d.stats.echoTxns, EchoRows: d.stats.echoRows,
		Aborted: d.stats.aborted, LastCommit: d.stats.lastCommit,
		CaptureLag: d.stats.captureLag,
	}
	c.mu.Unlock()
}

// SourceError is a failure talking to the source database. It is retryable:
// the supervisor restarts the direction, which reconnects.
type SourceError struct {
	Op  string
	Err error
}

func (e *SourceError) Error() string   { return e.Op + ": " + e.Err.Error() }
func (e *SourceError) Unwrap() error   { return e.Err }
func (e *SourceError) Retryable() bool { return true }

func connectReplication(ctx context.Context, dsn, workMem string) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("capture: parse DSN: %w", redactErr(err))
	}
	cfg.RuntimeParams["replication"] = "database"
	// pgoutput prints values with the walsender's settings: pin the ones
	// pgtext reads, whatever the server's defaults are.
	cfg.RuntimeParams["datestyle"] = "ISO, MDY"
	cfg.RuntimeParams["intervalstyle"] = "postgres"
	cfg.RuntimeParams["extra_float_digits"] = "3"
	if workMem != "" {
		cfg.RuntimeParams["logical_decoding_work_mem"] = workMem
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, &SourceError{Op: fmt.Sprintf("connect for replication to %s:%d", cfg.Host, cfg.Port), Err: err}
	}
	return conn, nil
}

func closeConn(conn *pgconn.PgConn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// redactErr drops the text of a DSN parse error, which can quote the DSN.
func redactErr(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("invalid connection string")
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) || pgconn.Timeout(err)
}
