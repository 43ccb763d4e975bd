package verify

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Engine is a side's database engine, named as the config names it.
type Engine string

const (
	Postgres Engine = "postgres"
	MariaDB  Engine = "mariadb"
	MySQL    Engine = "mysql"
)

// binlog reports whether e is MariaDB or MySQL.
func (e Engine) binlog() bool { return e == MariaDB || e == MySQL }

// side is one connection to one database, of that database's engine:
// pgSide (side_pg.go) or mySide (side_mysql.go). Every method is one or
// a few short statements; none holds a transaction open between calls.
// A side is used by one goroutine at a time.
type side interface {
	// chunkBounds walks s's primary key in this side's key order and
	// returns the key text ending each chunk of n rows but the last. Only
	// blue is cut.
	chunkBounds(ctx context.Context, s *shape, n int) ([]string, error)
	// chunk writes the rows of s in key range c to r, one line per row.
	chunk(ctx context.Context, s *shape, c chunk, r *rowSet) error
	// keyed writes the rows of s with the given keys (key texts as r's
	// lines carry them) to r.
	keyed(ctx context.Context, s *shape, keys []string, r *rowSet) error
	// position is the side's current source position, in the unit the
	// checkpoints of a direction reading it use (PostgreSQL: WAL LSN;
	// MariaDB/MySQL: binlog file sequence << 32 | offset).
	position(ctx context.Context) (uint64, error)
	// checkpoint is the source position the direction named direction has
	// applied to this side (bgsync's checkpoints table in schema); ok is
	// false when it has no checkpoint yet.
	checkpoint(ctx context.Context, schema, direction string) (pos uint64, ok bool, err error)
	close()
}

// pair is one connection to each side.
type pair struct {
	sides [2]side
}

// openPair connects to both sides, each with its engine's session
// settings (see side_pg.go and side_mysql.go).
func openPair(ctx context.Context, o *Options) (*pair, error) {
	p := &pair{}
	for i, dsn := range []string{o.BlueDSN, o.GreenDSN} {
		var s side
		var err error
		if e := o.engine(i); e.binlog() {
			var m *mySide
			if m, err = openMy(ctx, dsn, e, o.StatementTimeout); err == nil {
				m.form = o.BinlogForms[sideName[i]]
				s = m
			}
		} else {
			s, err = openPg(ctx, dsn, o.StatementTimeout)
		}
		if err != nil {
			p.close()
			return nil, fmt.Errorf("%s: %w", sideName[i], err)
		}
		p.sides[i] = s
	}
	return p, nil
}

func (p *pair) close() {
	for _, s := range p.sides {
		if s != nil {
			s.close()
		}
	}
}

func (p *pair) side(i int) side { return p.sides[i] }

// binlog reports whether side i is MariaDB/MySQL.
func (p *pair) binlog(i int) bool {
	_, ok := p.sides[i].(*mySide)
	return ok
}

// pg is side i's PostgreSQL connection; nil for a MariaDB/MySQL side.
func (p *pair) pg(i int) *pgx.Conn {
	if s, ok := p.sides[i].(*pgSide); ok {
		return s.conn
	}
	return nil
}
