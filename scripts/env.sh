#!/usr/bin/env bash
# Test and demo environment for bgsync: two PostgreSQL 15 clusters, "blue" and
# "green", on loopback ports with logical replication enabled, and two MariaDB
# instances, "blue" and "green", with a ROW binlog carrying full metadata.
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
#
# MariaDB: the machine's own instance (port 3306) is never touched either.
# Blue listens on BGSYNC_MY_BLUE_PORT (13306), green on BGSYNC_MY_GREEN_PORT
# (13307); data under BGSYNC_MY_DIR (/var/lib/bgsync-mariadb). Each has its
# own server_id and gtid_domain_id, so their GTIDs never collide. Users:
# root@127.0.0.1 (tests create databases with it) and bgsync@127.0.0.1 with
# the least privileges bgsync needs (see my_users), both with the password
# BGSYNC_MY_PASSWORD (bgsync).
set -euo pipefail

PG_VERSION=${BGSYNC_PG_VERSION:-15}
BLUE_PORT=${BGSYNC_PG_BLUE_PORT:-15433}
GREEN_PORT=${BGSYNC_PG_GREEN_PORT:-15434}
# A third, small cluster with wal_level=replica: tests of setup's prerequisite
# checks point at it.
PLAIN_PORT=${BGSYNC_PG_PLAIN_PORT:-15435}
PASSWORD=${BGSYNC_PG_PASSWORD:-bgsync}
MY_BLUE_PORT=${BGSYNC_MY_BLUE_PORT:-13306}
MY_GREEN_PORT=${BGSYNC_MY_GREEN_PORT:-13307}
# A third, small MariaDB with the binlog settings bgsync refuses (STATEMENT
# format, MINIMAL row image and metadata, short retention): tests of setup's
# checks point at it.
MY_PLAIN_PORT=${BGSYNC_MY_PLAIN_PORT:-13308}
# A fourth, standby for blue: same GTID domain as blue, log_slave_updates,
# not replicating until a test points it at blue (the failover test does,
# and then promotes it).
MY_REPLICA_PORT=${BGSYNC_MY_REPLICA_PORT:-13309}
MY_DIR=${BGSYNC_MY_DIR:-/var/lib/bgsync-mariadb}
MY_PASSWORD=${BGSYNC_MY_PASSWORD:-bgsync}

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

install_mariadb() {
	if [ -x /usr/sbin/mariadbd ] && command -v mariadb-install-db >/dev/null; then
		return
	fi
	log "installing mariadb-server"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq mariadb-server mariadb-client >/dev/null
	# The package starts the machine's own instance; bgsync does not need it.
}

my_client() { mariadb --no-defaults --protocol=socket --socket="$MY_DIR/$1/mysqld.sock" -uroot "${@:2}"; }

my_running() { [ -f "$MY_DIR/$1/pid" ] && kill -0 "$(cat "$MY_DIR/$1/pid")" 2>/dev/null; }

# my_up_one NAME PORT ID [SETTINGS]: create (once), configure and start one
# instance; SETTINGS (lines of my.cnf) override the defaults.
my_up_one() {
	local name=$1 port=$2 id=$3 extra=${4:-} dir=$MY_DIR/$1 i
	mkdir -p "$dir/binlog"
	cat >"$dir/my.cnf.tmp" <<CONF
# written by bgsync scripts/env.sh
[mysqld]
user=mysql
datadir=$dir/data
socket=$dir/mysqld.sock
pid-file=$dir/mysqld.pid
log_error=$dir/error.log
port=$port
bind-address=127.0.0.1
skip-name-resolve
server_id=$id
gtid_domain_id=$id
log_bin=$dir/binlog/mysql-bin
binlog_format=ROW
binlog_row_image=FULL
binlog_row_metadata=FULL
binlog_expire_logs_seconds=604800
max_binlog_size=256M
max_connections=300
innodb_buffer_pool_size=256M
innodb_flush_log_at_trx_commit=1
sync_binlog=1
character_set_server=utf8mb4
collation_server=utf8mb4_general_ci
CONF
	[ -z "$extra" ] || printf '%s\n' "$extra" >>"$dir/my.cnf.tmp"
	local changed=0
	if ! cmp -s "$dir/my.cnf.tmp" "$dir/my.cnf" 2>/dev/null; then
		mv "$dir/my.cnf.tmp" "$dir/my.cnf"
		changed=1
	else
		rm -f "$dir/my.cnf.tmp"
	fi
	chown -R mysql:mysql "$dir"
	# start-stop-daemon refuses a pid file root does not own.
	[ ! -f "$dir/pid" ] || chown root:root "$dir/pid"
	if [ ! -d "$dir/data/mysql" ]; then
		log "creating MariaDB $name on port $port"
		mariadb-install-db --defaults-file="$dir/my.cnf" --auth-root-authentication-method=normal >"$dir/install.log" 2>&1 ||
			die "mariadb-install-db for $name failed: see $dir/install.log"
	fi
	if my_running "$name" && [ "$changed" = 1 ]; then
		log "restarting MariaDB $name for new settings"
		start-stop-daemon --stop --quiet --retry 30 --pidfile "$dir/pid"
	fi
	if ! my_running "$name"; then
		log "starting MariaDB $name"
		start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$dir/pid" \
			--exec /usr/sbin/mariadbd -- --defaults-file="$dir/my.cnf"
	fi
	for i in $(seq 1 60); do
		mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot -p"$MY_PASSWORD" ping >/dev/null 2>&1 && break
		mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1 && break
		sleep 0.5
	done
	[ "$i" != 60 ] || die "MariaDB $name did not start: see $dir/error.log"
	my_users "$name"
}

# my_users NAME: root over TCP for tests; bgsync with what capture and apply
# need and no more: reading the binlog (REPLICATION SLAVE), reading binlog
# state and settings (BINLOG MONITOR, SLAVE MONITOR), and data rights on the
# databases it syncs plus its own bgsync database. Tests grant it more where
# they create databases (GRANT ... ON db.*).
my_users() {
	local pw=$MY_PASSWORD
	my_client "$1" -p"$pw" -e "SELECT 1" >/dev/null 2>&1 || pw=""
	my_client "$1" ${pw:+-p"$pw"} <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '$MY_PASSWORD';
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$MY_PASSWORD';
GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'bgsync'@'127.0.0.1';
ALTER USER 'bgsync'@'127.0.0.1' IDENTIFIED BY '$MY_PASSWORD';
GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'bgsync'@'127.0.0.1';
GRANT ALL ON bgsync.* TO 'bgsync'@'127.0.0.1';
SQL
}

my_down_one() {
	[ -f "$MY_DIR/$1/pid" ] || return 0
	start-stop-daemon --stop --quiet --retry 30 --pidfile "$MY_DIR/$1/pid" || true
	rm -f "$MY_DIR/$1/pid"
}

print_env() {
	cat <<ENV
export BGSYNC_TEST_BLUE_DSN='postgres://postgres:$PASSWORD@127.0.0.1:$BLUE_PORT/postgres?sslmode=disable'
export BGSYNC_TEST_GREEN_DSN='postgres://postgres:$PASSWORD@127.0.0.1:$GREEN_PORT/postgres?sslmode=disable'
export BGSYNC_TEST_PLAIN_DSN='postgres://postgres:$PASSWORD@127.0.0.1:$PLAIN_PORT/postgres?sslmode=disable'
export BGSYNC_TEST_MY_BLUE_DSN='root:$MY_PASSWORD@tcp(127.0.0.1:$MY_BLUE_PORT)/'
export BGSYNC_TEST_MY_GREEN_DSN='root:$MY_PASSWORD@tcp(127.0.0.1:$MY_GREEN_PORT)/'
export BGSYNC_TEST_MY_PLAIN_DSN='root:$MY_PASSWORD@tcp(127.0.0.1:$MY_PLAIN_PORT)/'
export BGSYNC_TEST_MY_REPLICA_DSN='root:$MY_PASSWORD@tcp(127.0.0.1:$MY_REPLICA_PORT)/'
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
	install_mariadb
	my_up_one blue "$MY_BLUE_PORT" 11
	my_up_one green "$MY_GREEN_PORT" 12
	my_up_one plain "$MY_PLAIN_PORT" 13 "binlog_format=STATEMENT
binlog_row_image=MINIMAL
binlog_row_metadata=MINIMAL
binlog_expire_logs_seconds=3600
innodb_buffer_pool_size=32M"
	my_up_one replica "$MY_REPLICA_PORT" 14 "gtid_domain_id=11
log_slave_updates=ON
skip_slave_start=ON
innodb_buffer_pool_size=64M"
	log "ready: MariaDB blue 127.0.0.1:$MY_BLUE_PORT, green 127.0.0.1:$MY_GREEN_PORT, plain (STATEMENT binlog) 127.0.0.1:$MY_PLAIN_PORT, replica (blue's standby) 127.0.0.1:$MY_REPLICA_PORT (users root and bgsync)"
	;;
down)
	for c in bgsync_blue bgsync_green bgsync_plain; do
		cluster_exists "$c" && cluster_online "$c" && pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$c" stop -m fast
	done
	my_down_one blue
	my_down_one green
	my_down_one plain
	my_down_one replica
	true
	;;
destroy)
	need_root
	for c in bgsync_blue bgsync_green bgsync_plain; do
		cluster_exists "$c" && pg_dropcluster --stop "$PG_VERSION" "$c"
	done
	my_down_one blue
	my_down_one green
	my_down_one plain
	my_down_one replica
	rm -rf "$MY_DIR"
	true
	;;
status)
	pg_lsclusters | awk 'NR==1 || $2 ~ /^bgsync_/'
	for n in blue green plain replica; do
		if my_running "$n"; then echo "MariaDB $n: running (pid $(cat "$MY_DIR/$n/pid"))"; else echo "MariaDB $n: down"; fi
	done
	;;
env) print_env ;;
*)
	echo "usage: $0 up|down|destroy|status|env" >&2
	exit 2
	;;
esac
