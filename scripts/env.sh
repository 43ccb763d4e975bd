#!/usr/bin/env bash
# Test and demo environment for bgsync: two PostgreSQL 15 clusters, "blue" and
# "green", on loopback ports with logical replication enabled.
#
#   scripts/env.sh up      install what is missing, create and start the clusters (idempotent)
#   scripts/env.sh down    stop them (data kept)
#   scripts/env.sh destroy stop and delete them
#   scripts/env.sh status  show them
#   scripts/env.sh env     print the env vars tests and the demo read
#
# The machine's own PostgreSQL (port 5432) is never touched. Ports and the
# password come from BGSYNC_PG_BLUE_PORT (15433), BGSYNC_PG_GREEN_PORT (15434)
# and BGSYNC_PG_PASSWORD (bgsync). Runs as root (Debian's pg_createcluster and
# pg_ctlcluster switch to the postgres user; postgres itself refuses root).
set -euo pipefail

PG_VERSION=${BGSYNC_PG_VERSION:-15}
BLUE_PORT=${BGSYNC_PG_BLUE_PORT:-15433}
GREEN_PORT=${BGSYNC_PG_GREEN_PORT:-15434}
# A third, small cluster with wal_level=replica: tests of setup's prerequisite
# checks point at it.
PLAIN_PORT=${BGSYNC_PG_PLAIN_PORT:-15435}
PASSWORD=${BGSYNC_PG_PASSWORD:-bgsync}

log() { printf 'env: %s\n' "$*" >&2; }
die() { printf 'env: error: %s\n' "$*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "run as root (it installs packages and manages clusters)"; }

install_pg() {
	if [ -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ] && command -v pg_createcluster >/dev/null; then
		return
	fi
	log "installing postgresql-$PG_VERSION"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "postgresql-$PG_VERSION" postgresql-client-common >/dev/null
}

cluster_exists() { [ -d "/etc/postgresql/$PG_VERSION/$1" ]; }

cluster_online() { pg_lsclusters -h "$PG_VERSION" "$1" 2>/dev/null | awk '{print $4}' | grep -q online; }

pg_up_one() {
	local name=$1 port=$2 wal_level=${3:-logical} conf
	if ! cluster_exists "$name"; then
		log "creating cluster $PG_VERSION/$name on port $port"
		pg_createcluster "$PG_VERSION" "$name" --port "$port" >/dev/null
	fi
	conf=/etc/postgresql/$PG_VERSION/$name/conf.d/50-bgsync.conf
	cat >"$conf.tmp" <<CONF
# written by bgsync scripts/env.sh
listen_addresses = '127.0.0.1'
port = $port
wal_level = $wal_level
max_replication_slots = 20
max_wal_senders = 20
max_logical_replication_workers = 8
track_commit_timestamp = on
max_connections = 200
shared_buffers = 256MB
synchronous_commit = on
fsync = on
CONF
	if ! cmp -s "$conf.tmp" "$conf" 2>/dev/null; then
		mv "$conf.tmp" "$conf"
		chown postgres:postgres "$conf"
		if cluster_online "$name"; then
			log "restarting $name for new settings"
			pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$name" restart
		fi
	else
		rm -f "$conf.tmp"
	fi
	if ! cluster_online "$name"; then
		log "starting $name"
		pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$name" start
	fi
	su postgres -c "psql -q -p $port -c \"ALTER USER postgres PASSWORD '$PASSWORD'\"" >/dev/null
}

print_env() {
	cat <<ENV
export BGSYNC_TEST_BLUE_DSN='postgres://postgres:$PASSWORD@127.0.0.1:$BLUE_PORT/postgres?sslmode=disable'
export BGSYNC_TEST_GREEN_DSN='postgres://postgres:$PASSWORD@127.0.0.1:$GREEN_PORT/postgres?sslmode=disable'
export BGSYNC_TEST_PLAIN_DSN='postgres://postgres:$PASSWORD@127.0.0.1:$PLAIN_PORT/postgres?sslmode=disable'
ENV
}

case "${1:-}" in
up)
	need_root
	install_pg
	pg_up_one bgsync_blue "$BLUE_PORT"
	pg_up_one bgsync_green "$GREEN_PORT"
	pg_up_one bgsync_plain "$PLAIN_PORT" replica
	log "ready: blue 127.0.0.1:$BLUE_PORT, green 127.0.0.1:$GREEN_PORT, plain (wal_level=replica) 127.0.0.1:$PLAIN_PORT (user postgres)"
	;;
down)
	for c in bgsync_blue bgsync_green bgsync_plain; do
		cluster_exists "$c" && cluster_online "$c" && pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$c" stop -m fast
	done
	true
	;;
destroy)
	need_root
	for c in bgsync_blue bgsync_green bgsync_plain; do
		cluster_exists "$c" && pg_dropcluster --stop "$PG_VERSION" "$c"
	done
	true
	;;
status) pg_lsclusters | awk 'NR==1 || $2 ~ /^bgsync_/' ;;
env) print_env ;;
*)
	echo "usage: $0 up|down|destroy|status|env" >&2
	exit 2
	;;
esac
