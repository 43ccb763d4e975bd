// Package pipeline wires the stages of one sync direction — capture,
// Kafka producer, Kafka consumer, applier — and supervises them.
//
// Contract:
//   - A Direction's Run executes the stages in one errgroup. The first error
//     stops them all; the supervisor then waits (exponential backoff with
//     jitter, reset after a healthy minute) and starts them again, until ctx
//     is cancelled. A panic in a stage becomes an error at the stage
//     boundary. Run returns nil on cancel.
//   - Positions are correct by construction: the applier opens first and
//     reads its checkpoint; the consumer fixes its start offset at the end of
//     the topic before the capture starts; the capture restarts at the slot's
//     confirmed position, so everything not yet applied is produced again; the
//     capture is acknowledged only with what Apply returned, after COMMIT.
//     Kafka is a transit buffer: losing its data loses nothing.
//   - Consecutive transactions that are already waiting are grouped into one
//     target transaction, up to BatchRows rows.
//   - Stats are safe to read from any goroutine.
package pipeline
