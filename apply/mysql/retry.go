package mysql

import (
	"context"
	"time"

	"github.com/bgsync/bgsync/change"
)

// raceAttempts bounds how often one group is tried in place after losing
// a race with the application's own transactions.
const raceAttempts = 5

// Apply applies txns, in order, in one target transaction with the
// checkpoint. kafkaOffset is the offset of the last message of the last
// transaction, stored for diagnosis.
//
// When the target transaction loses a race with the application (a key it
// found missing was inserted before its write: duplicate key 1062; a
// deadlock 1213; a lock wait timeout 1205), it is rolled back and the
// group is resolved and applied again on the same session, up to
// raceAttempts attempts in all; Result.Retries counts the retries. Any
// other error is returned at once.
func (a *Applier) Apply(ctx context.Context, txns []*change.Txn, kafkaOffset int64) (Result, error) {
	retries := 0
	for {
		res, err := a.applyOnce(ctx, txns, kafkaOffset)
		res.Retries = retries
		if err == nil || retries+1 >= raceAttempts || !lostRace(err) || ctx.Err() != nil {
			return res, err
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
