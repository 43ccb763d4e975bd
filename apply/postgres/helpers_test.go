package postgres_test

import (
	"errors"

	applypg "github.com/bgsync/bgsync/apply/postgres"
)

func asApplyError(err error, target **applypg.ApplyError) bool { return errors.As(err, target) }
