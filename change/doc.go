// Package change is the event model every bgsync stage shares: table identity,
// row images made of canonical values, operations, source positions and
// source transactions.
//
// Contract:
//   - change imports no other bgsync package; every stage may import it.
//   - A Txn is one committed source transaction. Its Position is the source
//     position that, once durably applied on the target, may be acknowledged
//     to the source (PostgreSQL: the commit record's end LSN). Positions of
//     one source are totally ordered; a Txn at or below the target's applied
//     checkpoint has already been applied and must be skipped.
//   - Changes inside a Txn are in source order; Change.Seq is the row's place
//     in its transaction, starting at 0, so a consumer can rebuild the
//     transaction from one message per row.
//   - A Value is a canonical, engine-independent value. Equal data encode to
//     equal bytes (see AppendValue), which is what the Kafka envelope carries
//     and what verify hashes.
//   - Kind Unchanged marks a column whose value the source did not send (an
//     unchanged TOASTed value in PostgreSQL). An applier must keep the
//     target's current value for it, never write NULL.
package change
