// Package transport carries committed source transactions (change.Txn)
// through Kafka: a Producer writes them, a Consumer in the same process
// rebuilds them for the applier, and Embedded is the in-process broker used
// when no Kafka cluster is configured.
//
// # Messages
//
// One message per row change on topic <prefix>.<side> (bgsync.blue,
// bgsync.green), all on one partition (0 by default), which keeps source
// commit order and lets the consumer apply each transaction atomically.
//
//   - Key: the table and the canonical encoding of the key columns' values
//     (EncodeKey), so partitioning by key would keep per-row order.
//   - Value: the binary envelope (EncodeRecord; the layout is in
//     envelope.go): a magic byte 0xBC and a version byte, then op, table,
//     columns, before and after images, source commit time (microseconds),
//     source position, transaction id, the change's Seq in its transaction,
//     the transaction's number of changes, origin, and TRUNCATE's tables
//     and options; version 2 adds the change's own time (a MariaDB/MySQL
//     statement's, where it is not its commit's) and is written only for
//     such changes. A version this build cannot read is an error, never a
//     guess. Every version has golden files in testdata/.
//   - Timestamp: the time of writing (retention goes by it).
//
// The Codec interface leaves room for a Debezium-compatible JSON envelope;
// only the binary one exists.
//
// # Producer
//
// WriteTxns returns nil only after the broker acknowledged every message of
// the given transactions with acks=all. That is all the pipeline needs: the
// source position is released only after the target applied the
// transaction, never on the producer's word, so Kafka is a transit buffer
// and losing its data loses nothing. After a failed write some messages of
// the transactions may be in the topic; the producer then refuses every
// later write, and the direction must restart (the source re-sends what
// was not applied). A transaction with no changes produces no message.
//
// # Consumer
//
// Each time a direction (re)starts, NewConsumer reads the partition's
// current end offset, before the capture starts producing, and the consumer
// reads from there: the capture re-sends from the source everything not yet
// applied, so older messages are not needed (the applier skips positions it
// already applied). The sequence for a direction is: close the old producer
// and consumer, NewConsumer, start the capture and producer, then call
// Next in a loop.
//
// Next returns whole transactions in partition order, rebuilt from
// consecutive messages with Seq 0..size-1 and the same transaction header,
// with the offset of their last message. When a transaction is incomplete
// and a message of another transaction, or the same transaction from Seq 0
// again, arrives, the partial copy was cut short by a failed or crashed
// producer: it is dropped and counted (Stats), and the source re-sends it.
// Messages repeated inside a transaction (a retried produce request) are
// ignored; messages of a transaction whose start was not seen are dropped
// and counted. The consumer never lets a later transaction overtake a
// dropped one: if a transaction with a higher position completes before the
// dropped one was re-sent, Next fails with ErrTxnGap rather than let the
// target's checkpoint pass a transaction it never applied.
//
// Next never skips silently. A message that does not decode, a hole in the
// offsets (ErrOffsetGap: retention or a broker that lost data removed
// messages before they were read), a gap (ErrTxnGap) or a transaction over
// MaxTxnBytes (ErrTxnTooLarge) is a *MessageError naming topic, partition
// and offset; it is sticky, and MessageError.Retryable says whether a
// restart of the direction gets past it.
//
// # Memory
//
// The consumer holds one transaction being rebuilt, bounded by MaxTxnBytes
// of encoded messages (default 128 MiB); decoded, a transaction takes about
// 3 to 4 times its encoded size (a 100k-row transaction of 217-byte
// messages: 22 MB encoded, 70 MB decoded). Add the fetch buffer (MaxBytes,
// 4 MiB) and the queue of fetched messages (QueueCapacity, 8192). The
// producer holds the encoded messages of one WriteTxns call, written in
// slices of at most 32 MiB.
//
// # Runs
//
// Every (re)start of a direction is a run with a random id. Its producer
// stamps each message with the run id and a sequence number from 0 (header
// RunHeader); its consumer reads only its own run's messages, in sequence.
// A message of an earlier run that lands late (a produce request that timed
// out but was written, replicated after the new consumer's start offset) is
// passed over and counted: the source re-sends it in the new run, in order.
// A break in the run's own sequence (the log lost or reset messages) is
// ErrOffsetGap and restarts the direction: nothing is ever skipped.
//
// # Embedded broker
//
// StartEmbedded runs kfake with a data directory (locked against a second
// broker), one broker on 127.0.0.1. Topics and messages survive a restart
// on the same directory and a kill -9 of the process; SyncWrites adds an
// fsync per produced batch for power loss. Retention (default 24 h) bounds
// disk use. kfake logs nothing unless a Logger is given.
package transport
