// Package conflict detects write-write conflicts between an incoming row
// change and the target's current row, and decides them by policy. It is
// pure: no I/O, no clocks, no randomness.
//
// Contract:
//   - Detect classifies an incoming change against the target's current row
//     (nil when no row has the key): insert_exists, insert_deleted,
//     update_missing, update_differs, delete_missing, delete_differs, or
//     none. Whether the target holds a write the incoming change did not
//     see is decided by values, not clocks: the before image is compared
//     column by column where it has values (KindAbsent columns of a
//     key-only image are not compared), so clock skew between the two
//     hosts never turns a sequential write into a conflict. An insert
//     meets a key the target deleted (insert_deleted) when the target's
//     tombstone is at or after the insert's time (Input.CommitTime, or
//     its timestamp column under Rule.TimestampColumn); that one decision
//     does read clocks, and assumes the hosts agree to within the sync lag.
//     Values are compared with change.Equal, or with Input.Same where the
//     applier sets one (a target that keeps JSON in its own spelling
//     compares it by value); the same comparison decides "converged" and,
//     under column-merge, which columns the change modified.
//     Known limit: a change whose before image equals, in every column, a
//     row the target rewrote to the same values (A→B→A) is taken as seen.
//   - Resolve turns a detected conflict into what the target should do: the
//     operation and row to write, or nothing. The same inputs always give the
//     same decision, and the rules are symmetric: when blue's change meets
//     green's row on green and green's change meets blue's row on blue, both
//     pick the same winner, so both sides converge.
//   - Policies order two conflicting writes — or a write and a delete — by a
//     stamp and keep the higher one on both sides. last-writer-wins: the
//     source time of each change (Txn.TimeOf: the commit time, or a
//     MariaDB/MySQL statement's own time), or a configured timestamp
//     column, which orders two writes by its values and a write against a
//     delete by the write's value against the delete's time (stamp.go: the
//     same two times on both sides whatever their engines); a tie goes to
//     blue. blue-wins / green-wins: that side's
//     writes and deletes outrank the other side's, then commit time. A
//     target row written by this same stream protects nothing of the
//     target's own, so the incoming change wins. manual leaves the target as
//     it is and reports the conflict unresolved.
//   - column-merge decides two writes of one row column by column (merge.go):
//     a column the incoming change modified is written unless the target's
//     application changed that column since the source saw it (the target
//     no longer holds the incoming before value) and wrote it later
//     (Input.ColumnTimes, recorded on the target per row and column);
//     every other column of the target
//     stays, and the resolution is "merged" when both sides keep something.
//     Deletes and missing rows are decided as under last-writer-wins.
//   - Deletes: the target's own deletes leave tombstones (their commit
//     time), so an update or insert that races a delete is ordered against
//     it instead of resurrecting or losing rows at random.
//   - Convergence: a randomized model of both sides (TestConvergence) finds
//     none of its histories diverging under last-writer-wins by commit
//     times, deletes included. Ordering by a timestamp column (stamp.go)
//     is shown symmetric case by case (stamp_test.go), not by the model. For blue-wins, green-wins and column-merge the model
//     converges for inserts and updates only. Side-wins: when one side
//     deletes and re-inserts a key while the other side writes it, no
//     before image tells whether the re-insert saw the other write.
//     column-merge: a delete that loses to a later column write of the
//     other side leaves that side's row (with columns merged in from the
//     deleting side before its delete) while the deleting side re-creates
//     the row from the other side's update alone. (Real storms once left a
//     key or two different under every policy; that was the applier reading
//     a row's previous origin after a lock wait, fixed in apply/postgres.)
//   - A conflict whose outcome the target already holds (delete_missing,
//     or a row equal to the incoming after image) resolves as "converged"
//     under every policy, manual included: nothing remains to decide.
package conflict
