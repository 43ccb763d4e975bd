package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
)

// kfakeLogger routes kfake's printf-style logs to slog: errors and warnings
// at their level, informational and debug logs at Debug. From Close on it
// also collects the errors kfake logs while persisting, since
// kfake.Cluster.Close reports them only that way.
type kfakeLogger struct {
	l *slog.Logger

	mu         sync.Mutex
	collecting bool
	errs       []error
}

var _ kfake.Logger = (*kfakeLogger)(nil)

func (k *kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	sl := slog.LevelDebug
	switch level {
	case kfake.LogLevelError:
		sl = slog.LevelError
	case kfake.LogLevelWarn:
		sl = slog.LevelWarn
	}
	if level == kfake.LogLevelError || level == kfake.LogLevelWarn {
		k.mu.Lock()
		if k.collecting {
			k.errs = append(k.errs, fmt.Errorf(format, args...))
		}
		k.mu.Unlock()
	}
	ctx := context.Background()
	if !k.l.Enabled(ctx, sl) {
		return
	}
	k.l.Log(ctx, sl, fmt.Sprintf(format, args...), "component", "kfake")
}

func (k *kfakeLogger) startCollecting() {
	k.mu.Lock()
	k.collecting = true
	k.mu.Unlock()
}

func (k *kfakeLogger) collected() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return errors.Join(k.errs...)
}
