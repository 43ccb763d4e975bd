// Package snapshot copies the rows of the synced tables from a source to a
// target, consistently with the source position streaming starts from, so
// a direction can begin on a live database that already holds data.
//
// Contract (the copier is built up in this package; sources and targets
// are the engines' packages, wired by cmd/bgsync):
//   - A Source opens consistent read-only Views. Every row a View reads is
//     as of its Position: every transaction at or below it is visible,
//     none above it.
//   - Tables are cut into primary-key ranges (chunks). The plan and each
//     chunk's state live on the target, so a restart copies only the
//     chunks not yet done. A chunk's rows and its "done" mark are written
//     in one target transaction, with the Position of the View it was read
//     under.
//   - Streaming then starts after the lowest chunk Position; changes up to
//     the highest chunk Position are applied idempotently (the source's row
//     wins, no conflict is logged), because some chunks already hold them.
//     With one shared snapshot (PostgreSQL, no restart) the two are equal.
package snapshot
