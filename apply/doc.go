// Package apply holds the target writers, one sub-package per engine:
// apply/postgres. A writer applies whole source transactions atomically and
// in source order, stores the source position it reached in the same target
// transaction, and skips anything at or below that position on replay.
package apply
