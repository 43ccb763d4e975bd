// Package logging builds bgsync's slog logger: JSON (default) or text on
// stderr, with a handler that scrubs registered secrets (database
// passwords) from every message and string attribute, so a password can
// never reach the logs even through a driver's error text.
package logging
