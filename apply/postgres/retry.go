package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/jackc/pgx/v5/pgconn"
)

// raceAttempts bounds how often one group is retried in place after losing
// a race with the application's own transactions.
const raceAttempts = 5

// Apply applies txns, in order, in one target transaction with the
// checkpoint. kafkaOffset is the offset of the last message of the last
// transaction, stored for diagnosis.
//
// When the target transaction loses a race with the application (a key it
// found missing was inserted before its write, a deadlock, a serialization
// failure), it is rolled back and the group is resolved and applied again
// on the same session, up to raceAttempts times; Result.Retries counts
// those. Any other error is returned at once.
func (a *Applier) Apply(ctx context.Context, txns []*change.Txn, kafkaOffset int64) (Result, error) {
	retries := 0
	for {
		res, err := a.applyOnce(ctx, txns, kafkaOffset)
		res.Retries = retries
		if err == nil || retries+1 >= raceAttempts || !lostRace(err) || ctx.Err() != nil {
			return res, err
		}
		if rbErr := a.rollback(ctx); rbErr != nil {
			return res, errors.Join(err, rbErr)
		}
		retries++
		a.cfg.Logger.Info("target transaction lost a race with the application; retrying it",
			"direction", a.cfg.Direction, "attempt", retries+1, "error", err.Error())
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(time.Duration(retries*retries) * 10 * time.Millisecond):
		}
	}
}

// lostRace reports whether err is the target refusing a statement because
// of a concurrent application transaction: retrying the group re-reads the
// rows and decides again.
func lostRace(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "23505", // unique_violation: a key found missing was inserted since
		"40P01", // deadlock_detected
		"40001", // serialization_failure
		"55P03": // lock_not_available
		return true
	}
	return false
}

// rollback ends the failed target transaction. Staging tables created in
// it are gone with it, so they are created again when next needed.
func (a *Applier) rollback(ctx context.Context) error {
	if _, err := a.conn.PgConn().Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
		return &TargetError{Op: "roll back after a lost race", Err: err}
	}
	clear(a.staged)
	return nil
}
