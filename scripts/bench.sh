#!/usr/bin/env bash
# make bench: bgsync vs PostgreSQL native logical replication on the two
# local clusters of scripts/env.sh (blue → green), same data, one table;
# then bgsync both ways: disjoint-key drains and a conflict storm; then the
# MariaDB servers of scripts/env.sh: capture/mysql's decode rate next to
# mariadb-binlog's on the same binlog, and MariaDB → MariaDB and
# MariaDB → PostgreSQL drains (-my-rows 0 skips them, -only mariadb runs
# only them); then bgsync snapshot's initial copy against
# pg_dump --data-only | psql, and a MariaDB → PostgreSQL copy
# (-snapshot-rows 0 / -snapshot-my-rows 0 skip them, -only snapshot runs
# only them).
# Options go to tools/bench (see -h), directly or through BENCH_ARGS:
#   bash scripts/bench.sh -rows 100000      make bench BENCH_ARGS="-rows 100000"
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bench" ./tools/bench
# shellcheck disable=SC2086
"$tmp/bench" -bin "${BGSYNC_BIN:-bin/bgsync}" ${BENCH_ARGS:-} "$@"
