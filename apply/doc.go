// Package apply holds the target writers, one sub-package per engine:
// apply/postgres and apply/mysql (MariaDB/MySQL), and the types they share
// (Result, DeadLetter, ImageJSON). A writer applies whole source transactions atomically and
// in source order, stores the source position it reached in the same target
// transaction, and skips anything at or below that position on replay.
package apply
