package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// DSN is a database connection string. It formats and logs redacted; use
// string(d) (or Config.BlueDSN/GreenDSN) for the real value.
type DSN string

func (d DSN) String() string       { return Redact(string(d)) }
func (d DSN) GoString() string     { return quote(d.String()) }
func (d DSN) LogValue() slog.Value { return slog.StringValue(d.String()) }

// BlueDSN returns the blue side's DSN, read from dsn_file if that is how
// it is given.
func (c *Config) BlueDSN() (string, error) { return c.Blue.ResolveDSN() }

// GreenDSN returns the green side's DSN, read from dsn_file if that is how
// it is given.
func (c *Config) GreenDSN() (string, error) { return c.Green.ResolveDSN() }

// EngineOf returns the engine of side.
func (c *Config) EngineOf(side Side) Engine {
	if side == Green {
		return c.Green.Engine
	}
	return c.Blue.Engine
}

// DSNFor returns the DSN of side.
func (c *Config) DSNFor(side Side) (string, error) {
	if side == Green {
		return c.GreenDSN()
	}
	return c.BlueDSN()
}

// ResolveDSN returns DSN, or the trimmed contents of DSNFile. It reads the
// file on every call, so a rotated secret is picked up on reconnect. The
// error never contains the DSN.
func (d Database) ResolveDSN() (string, error) {
	switch {
	case d.DSN != "" && d.DSNFile != "":
		return "", errors.New("both dsn and dsn_file are set")
	case d.DSN != "":
		return string(d.DSN), nil
	case d.DSNFile == "":
		return "", errors.New("neither dsn nor dsn_file is set")
	}
	dsn, err := readDSNFile(d.DSNFile)
	if err != nil {
		return "", fmt.Errorf("dsn_file: %w", err)
	}
	return dsn, nil
}

// maxDSNFileSize bounds what readDSNFile reads.
const maxDSNFileSize = 64 << 10

// readDSNFile returns the trimmed contents of the regular file path. It
// refuses devices and FIFOs (which could block or never end), files over
// 64 KiB and empty files; errors name the path, never the contents.
func readDSNFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, pathErrCause(err))
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, pathErrCause(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDSNFileSize+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, pathErrCause(err))
	}
	if len(data) > maxDSNFileSize {
		return "", fmt.Errorf("%s is larger than %d bytes", path, maxDSNFileSize)
	}
	dsn := strings.TrimSpace(string(data))
	if dsn == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return dsn, nil
}

// pathErrCause strips the operation and path from an *fs.PathError, which
// the caller names itself.
func pathErrCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkDSN returns what is wrong with dsn for engine, "" if nothing. It
// parses only; it never connects. The result never contains a password.
func checkDSN(engine Engine, dsn string) string {
	if engine.Binlog() {
		return checkMySQLDSN(dsn)
	}
	if engine != EnginePostgres {
		return ""
	}
	if strings.IndexByte(dsn, 0) >= 0 {
		return "invalid DSN: it contains a NUL byte"
	}
	_, err := pgconn.ParseConfig(dsn)
	if err == nil {
		return ""
	}
	var m masker
	shown := quote(m.redact(dsn))
	reason := pgReason(err)
	if reason == kvInvalid {
		// The structure is broken, so where the password ends is a guess:
		// do not show the DSN (the error's line or env var locates it).
		return "invalid DSN: " + reason + " (write key=value pairs separated by spaces; quote values with spaces as 'a b')"
	}
	if hasScheme(dsn) && (reason == urlInvalid || unencodedUserinfo(dsn)) {
		reason += " (percent-encode special characters in the user name and password, e.g. @ as %40, / as %2F)"
	}
	// Defence in depth: whatever pgconn's text held, drop what Redact
	// masked.
	return m.scrub(fmt.Sprintf("invalid DSN %s: %s", shown, reason))
}

const (
	urlInvalid = "not a valid URL"
	kvInvalid  = "not a valid keyword/value string"
)

// unencodedUserinfo reports whether a URL DSN's user info seems to hold
// characters that must be percent-encoded there.
func unencodedUserinfo(dsn string) bool {
	rest := dsn[strings.Index(dsn, "://")+len("://"):]
	at := strings.LastIndexByte(rest, '@')
	return at >= 0 && strings.ContainsAny(rest[:at], "/?#[]@")
}

// pgReason explains a pgconn.ParseConfig error without quoting the
// connection string: pgconn's own text includes it (masked on a best-effort
// basis only), and the URL parser's error quotes fragments of it.
func pgReason(err error) string {
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return "cannot parse it"
	}
	// pce.Error() is "cannot parse `<dsn>`: <msg>" or "... <msg> (<inner>)";
	// <msg> is pgconn's own text.
	text := pce.Error()
	inner := errors.Unwrap(pce)
	if inner != nil {
		text = strings.TrimSuffix(text, " ("+inner.Error()+")")
	}
	if i := strings.LastIndex(text, "`: "); i >= 0 {
		text = text[i+len("`: "):]
	} else {
		text = "cannot parse it"
	}
	switch text {
	case "failed to parse as URL":
		return urlInvalid
	case "failed to parse as keyword/value":
		return kvInvalid
	}
	// Past parsing, errors are about single settings (sslmode, files,
	// timeouts), never the password; redact anyway.
	if inner != nil {
		text += " (" + redactText(inner.Error()) + ")"
	}
	return text
}
