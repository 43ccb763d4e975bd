package config

import (
	"strings"

	"github.com/go-sql-driver/mysql"
)

// checkMySQLDSN checks a MariaDB/MySQL DSN in the go-sql-driver form
// (user:password@tcp(host:port)/), returning "" when it parses. The
// message never holds the password.
func checkMySQLDSN(dsn string) string {
	if strings.Contains(dsn, "://") {
		return "invalid DSN: MariaDB/MySQL DSNs take the form user:password@tcp(host:port)/ (go-sql-driver), not a URL"
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		var m masker
		return m.scrub("invalid DSN " + quote(m.redact(dsn)) + ": " + strings.TrimPrefix(err.Error(), "invalid DSN: "))
	}
	if cfg.Net != "tcp" && cfg.Net != "unix" {
		return "invalid DSN: the network must be tcp(host:port) or unix(/path/to/socket)"
	}
	return ""
}
