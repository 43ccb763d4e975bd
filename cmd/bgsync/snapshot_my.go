package main

import (
	"context"
	"fmt"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/internal/snapshot"
)

// binlogSnapshotSource opens consistent views of a MariaDB source.
func (a *app) binlogSnapshotSource(src config.Side) (func(context.Context, int) ([]snapshot.View, error), func(change.Position) string, error) {
	return nil, nil, fmt.Errorf("%s: copying from %s is not wired yet", src, a.cfg.EngineOf(src))
}
