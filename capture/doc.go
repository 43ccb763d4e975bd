// Package capture holds the change-stream readers, one sub-package per
// engine: capture/postgres (pgoutput logical replication) and capture/mysql
// (the MariaDB/MySQL row binlog). Each reader turns
// its source's stream into committed change.Txn values, in source commit
// order, and releases a source position only when told that the other side
// has durably applied it.
package capture
