package postgres

import "github.com/bgsync/bgsync/change"

func pos(v uint64) change.Position { return change.Position(v) }
