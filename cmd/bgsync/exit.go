package main

import (
	"errors"

	"github.com/bgsync/bgsync/internal/config"
)

// Exit codes, documented in --help and the README.
const (
	exitOK          = 0 // success; the gate is safe
	exitCheckFailed = 1 // a check failed (divergence, gate not safe) or the sync failed at run time
	exitUsage       = 2 // usage, config or setup error (prerequisites, connection, credentials)
	exitNoMeasure   = 3 // could not measure
)

// exitError carries the exit code for an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// codeOf maps an error to its exit code: config errors are usage errors.
func codeOf(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ce *config.Error
	if errors.As(err, &ce) {
		return exitUsage
	}
	return exitCheckFailed
}
