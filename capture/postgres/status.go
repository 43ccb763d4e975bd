package postgres

import (
	"context"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
)

// statusState decides the flush position reported to the server.
type statusState struct {
	// A keepalive seen while no transaction was open: every transaction up
	// to walEnd has been received, and the last one handed on was need.
	// Once the target has applied need, walEnd may be confirmed as well.
	walEnd, need change.Position
	confirmed    change.Position
}

func (s *statusState) idle(walEnd, lastEmitted change.Position) {
	if walEnd > s.walEnd {
		s.walEnd, s.need = walEnd, lastEmitted
	}
}

// flush is the position safe to confirm given what the target applied.
func (s *statusState) flush(acked change.Position) change.Position {
	pos := acked
	if s.need <= acked && s.walEnd > pos {
		pos = s.walEnd
	}
	if pos < s.confirmed {
		pos = s.confirmed
	}
	return pos
}

func (c *Capture) sendStatus(ctx context.Context, conn *pgconn.PgConn, st *statusState) error {
	pos := st.flush(change.Position(c.acked.Load()))
	err := pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pglogrepl.LSN(pos),
		WALFlushPosition: pglogrepl.LSN(pos),
		WALApplyPosition: pglogrepl.LSN(pos),
		ClientTime:       time.Now(),
	})
	if err != nil {
		return &SourceError{Op: "send status to slot " + c.cfg.Slot, Err: err}
	}
	if pos > st.confirmed {
		st.confirmed = pos
		c.cfg.Logger.Debug("confirmed", "slot", c.cfg.Slot, "position", pos.String())
	}
	return nil
}
