#!/usr/bin/env bash
# make demo: a real sync between the two local clusters started by
# scripts/env.sh, both directions on, through the embedded Kafka broker, with
# a live progress line, a final content check, bgsync verify and both gate
# verdicts. Takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BGSYNC_BIN:-bin/bgsync}
CONFIG=${BGSYNC_DEMO_CONFIG:-configs/demo.yaml}
PW=${BGSYNC_PG_PASSWORD:-bgsync}
BLUE_PORT=${BGSYNC_PG_BLUE_PORT:-15433}
GREEN_PORT=${BGSYNC_PG_GREEN_PORT:-15434}
SECONDS_OF_LOAD=${DEMO_SECONDS:-20}
DB=bgsync_demo
STATE=.bgsync-demo
LOG=$STATE/run.log

export PGPASSWORD=$PW PGHOST=127.0.0.1 PGUSER=postgres PGOPTIONS="-c client_min_messages=warning"
blue()  { psql -X -q -v ON_ERROR_STOP=1 -p "$BLUE_PORT" "$@"; }
green() { psql -X -q -v ON_ERROR_STOP=1 -p "$GREEN_PORT" "$@"; }
say()   { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1/5 fresh demo databases on blue (:$BLUE_PORT) and green (:$GREEN_PORT)"
"$BIN" teardown --config "$CONFIG" >/dev/null 2>&1 || true
rm -rf "$STATE" && mkdir -p "$STATE"
for side in blue green; do
	$side -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
	$side -d $DB <<'SQL'
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text, profile jsonb, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2) NOT NULL,
                     status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
SQL
done
blue -d $DB -c "INSERT INTO customers SELECT g, 'customer ' || g, 'c' || g || '@example.com', '{\"tier\": \"gold\"}', now() FROM generate_series(1, 1000) g" \
	-c "INSERT INTO orders (customer_id, amount, status) SELECT 1 + g % 1000, (g % 500) + 0.99, 'new' FROM generate_series(1, 1000) g"
# Green starts with the same seed rows (the initial copy arrives with bgsync snapshot, a later feature).
blue -d $DB -c "COPY customers TO STDOUT" | green -d $DB -c "COPY customers FROM STDIN"
blue -d $DB -c "COPY orders TO STDOUT" | green -d $DB -c "COPY orders FROM STDIN"
green -d $DB -c "SELECT setval('orders_id_seq', (SELECT max(id) FROM orders))" >/dev/null

say "2/5 bgsync setup (prerequisites, publications, slots, bgsync schema; REPLICA IDENTITY FULL for two-way)"
"$BIN" setup --config "$CONFIG" --replica-identity-full

say "3/5 bgsync run, embedded Kafka broker (log: $LOG)"
"$BIN" run --config "$CONFIG" --progress 1s 2>"$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT

say "4/5 workload on blue for ${SECONDS_OF_LOAD}s (inserts, updates, deletes; 4 clients)"
cat >"$STATE/workload.sql" <<'SQL'
\set c random(1, 1000)
\set a random(1, 100000)
BEGIN;
INSERT INTO orders (customer_id, amount, status) VALUES (:c, :a / 100.0, 'new');
UPDATE customers SET email = 'c' || :c || '+' || :a || '@example.com', updated_at = now() WHERE id = :c;
UPDATE orders SET status = 'paid' WHERE id = (SELECT max(id) FROM orders WHERE customer_id = :c);
DELETE FROM orders WHERE id = (SELECT min(id) FROM orders WHERE customer_id = :c AND status = 'paid' AND :a % 10 = 0);
COMMIT;
SQL
PGBENCH=$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)
"$PGBENCH" -n -p "$BLUE_PORT" -c 4 -j 2 -T "$SECONDS_OF_LOAD" -f "$STATE/workload.sql" $DB >"$STATE/pgbench.log" 2>&1 &
LOAD=$!
progress_line() {
	grep '"msg":"progress"\|msg=progress' "$LOG" | grep 'blue-to-green' | tail -n 1 |
		sed -E 's/.*rows_applied[":= ]+([0-9]+).*rows_per_sec[":= ]+([0-9]+).*lag_ms[":= ]+([0-9]+).*lag_p99_ms[":= ]+([0-9]+).*/\1 \2 \3 \4/'
}
while kill -0 $LOAD 2>/dev/null; do
	sleep 1
	read -r rows rate lag p99 <<<"$(progress_line)" || true
	printf '\r  blue→green  applied %8s rows   %7s rows/s   lag %5s ms (p99 %s ms)   ' "${rows:-0}" "${rate:-0}" "${lag:-?}" "${p99:-?}"
done
wait $LOAD || { echo; cat "$STATE/pgbench.log"; exit 1; }
echo
grep -E "^(tps|number of transactions actually processed)" "$STATE/pgbench.log" | sed 's/^/  pgbench: /'

say "5/5 drain and content check (md5 of every row, ordered by key, on both sides)"
check() {
	local t=$1 b g
	b=$(blue -d $DB -Atc "SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM $t x")
	g=$(green -d $DB -Atc "SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM $t x")
	[ "$b" = "$g" ] && echo "$t: $b"
}
ok=""
for _ in $(seq 1 60); do
	if check customers >/dev/null && check orders >/dev/null; then ok=1; break; fi
	sleep 1
done
read -r rows rate lag p99 <<<"$(progress_line)" || true
if [ -n "$ok" ]; then
	check customers | sed 's/^/  MATCH  /'
	check orders | sed 's/^/  MATCH  /'
else
	echo "  DIFFERENT after 60 s: see $LOG"
fi
echo "  bgsync verify (row by row, while the sync runs):"
"$BIN" verify --config "$CONFIG" --sample 3 --progress 0 2>&1 | sed 's/^/    /' || ok=""
for g in cutover rollback; do
	echo "  bgsync gate $g:"
	"$BIN" gate "$g" --config "$CONFIG" 2>&1 | sed 's/^/    /' || ok=""
done
kill -TERM $PID
wait $PID && echo "  bgsync stopped cleanly (exit 0) after applying ${rows:-?} rows; lag p99 ${p99:-?} ms"
trap - EXIT
[ -n "$ok" ]
