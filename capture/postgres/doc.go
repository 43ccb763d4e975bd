// Package postgres captures committed transactions from PostgreSQL through
// logical replication (pgoutput, protocol version 2, streaming of large
// transactions on) using github.com/jackc/pglogrepl.
//
// Contract:
//   - Run connects with replication=database, starts the slot at its
//     confirmed position and sends every committed transaction, whole and in
//     commit order, on the channel it is given. A transaction's Position is
//     the end LSN of its commit record: acknowledging it tells PostgreSQL the
//     transaction need never be sent again.
//   - Streamed (in-progress) transactions are buffered per xid until Stream
//     Commit; Stream Abort drops them (or the aborted subtransaction's part).
//   - Transactions written by a replication origin whose name starts with
//     Config.SkipOriginPrefix are dropped (loop prevention) and counted.
//   - The slot's flush position only ever moves to what Ack was given, i.e.
//     what the target has durably applied — never to what was merely
//     received or produced to Kafka. When everything received has been
//     applied and the server reports a later WAL end in a keepalive, that WAL
//     end is confirmed too, so an idle source does not retain WAL forever.
//   - Run returns on the first error (connection loss included) or when ctx
//     is cancelled (then with ctx.Err()). It does not reconnect by itself:
//     the pipeline supervisor restarts the whole direction with backoff, and
//     the restarted capture begins again at the slot's confirmed position.
//   - Setup and Teardown create and remove the publication and the slot,
//     and Check reports unmet prerequisites with how to fix each.
//   - SnapshotSource (snapshot.go) opens the consistent views of the initial
//     copy: a temporary slot exports a snapshot and its consistent point is
//     the views' position; the direction's own slot is left alone (Advance
//     moves it there once the copy is done).
package postgres
