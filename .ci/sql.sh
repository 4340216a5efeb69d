# Sourced by .ci/run (bash, set -euo pipefail): installs MariaDB and PostgreSQL
# when missing (Debian packages), starts a throwaway server of each on a free
# loopback port in a temp dir, waits for them, creates a database and user in
# each, exports MYSQL_DSN and PG_DSN for the account/sqlstore tests,
# and stops them at exit. Local use: `. .ci/sql.sh` in a bash shell.

if declare -F step >/dev/null; then step "mariadb + postgresql"; fi
sql_t0=$(date +%s)
sql_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if ! { command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ]; } || [ -z "$(sql_pg_bin)" ] ||
   ! command -v mariadb-install-db >/dev/null || ! command -v psql >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d 101: the packages' own services are not started (ours are).
  sql_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; sql_policy=1; fi
  apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client postgresql postgresql-client >/dev/null
  if [ "$sql_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
sql_mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
sql_pgbin=$(sql_pg_bin)

# sql_free_port prints a loopback TCP port that nothing listens on.
sql_free_port() {
  local p
  for p in $(shuf -i 20000-60999 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "sql.sh: no free port found" >&2; return 1
}

sql_dir=$(mktemp -d /tmp/miniauth-sql.XXXXXX)
chmod 755 "$sql_dir"
sql_stop() {
  if [ -f "$sql_dir/pg/data/postmaster.pid" ]; then
    su -s /bin/sh postgres -c "'$sql_pgbin/pg_ctl' -D '$sql_dir/pg/data' -m immediate stop" >/dev/null 2>&1 || true
  fi
  if [ -f "$sql_dir/my/mariadb.pid" ]; then
    local pid
    pid=$(cat "$sql_dir/my/mariadb.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$sql_dir" 2>/dev/null || true
}
# Chain onto the EXIT trap already set (.ci/run's redis cleanup).
eval "sql_prev_trap=($(trap -p EXIT))"
sql_prev_exit=${sql_prev_trap[2]:-}
trap "sql_stop; $sql_prev_exit" EXIT

# MariaDB, as root, data and socket in the temp dir, nothing durable.
my_port=$(sql_free_port)
mkdir -p "$sql_dir/my"
mariadb-install-db --no-defaults --datadir="$sql_dir/my/data" --user=root \
  --auth-root-authentication-method=normal --skip-test-db >"$sql_dir/my/install.log" 2>&1 ||
  { cat "$sql_dir/my/install.log"; exit 1; }
"$sql_mariadbd" --no-defaults --datadir="$sql_dir/my/data" --user=root \
  --bind-address=127.0.0.1 --port="$my_port" --socket="$sql_dir/my/mariadb.sock" \
  --pid-file="$sql_dir/my/mariadb.pid" --log-error="$sql_dir/my/error.log" \
  --skip-name-resolve --skip-log-bin --max-connections=500 --innodb-buffer-pool-size=64M \
  --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --sync-binlog=0 >/dev/null 2>&1 &

# PostgreSQL, as user postgres (it refuses root), fsync off.
pg_port=$(sql_free_port)
while [ "$pg_port" = "$my_port" ]; do pg_port=$(sql_free_port); done
mkdir -p "$sql_dir/pg"
chown postgres "$sql_dir/pg"
su -s /bin/sh postgres -c "'$sql_pgbin/initdb' -D '$sql_dir/pg/data' -U postgres -A trust --no-sync -E UTF8 --no-locale" \
  >"$sql_dir/pg/initdb.log" 2>&1 || { cat "$sql_dir/pg/initdb.log"; exit 1; }
su -s /bin/sh postgres -c "'$sql_pgbin/pg_ctl' -D '$sql_dir/pg/data' -l '$sql_dir/pg/server.log' -w -t 60 start \
  -o \"-c listen_addresses=127.0.0.1 -p $pg_port -k '$sql_dir/pg' -c max_connections=300 -c fsync=off \
  -c synchronous_commit=off -c full_page_writes=off\"" >/dev/null ||
  { cat "$sql_dir/pg/server.log"; exit 1; }
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE USER miniauth PASSWORD 'miniauth' CREATEDB" -c "CREATE DATABASE miniauth OWNER miniauth"
export PG_DSN="postgres://miniauth:miniauth@127.0.0.1:$pg_port/miniauth?sslmode=disable"

for _ in $(seq 1 300); do
  mariadb-admin --no-defaults --socket="$sql_dir/my/mariadb.sock" -uroot ping >/dev/null 2>&1 && break
  sleep 0.1
done
mariadb --no-defaults --socket="$sql_dir/my/mariadb.sock" -uroot -e "
  CREATE DATABASE miniauth;
  CREATE USER 'miniauth'@'127.0.0.1' IDENTIFIED BY 'miniauth';
  GRANT ALL PRIVILEGES ON *.* TO 'miniauth'@'127.0.0.1';" ||
  { cat "$sql_dir/my/error.log"; exit 1; }
export MYSQL_DSN="miniauth:miniauth@tcp(127.0.0.1:$my_port)/miniauth"

echo "sql.sh: MariaDB on 127.0.0.1:$my_port, PostgreSQL on 127.0.0.1:$pg_port ($(( $(date +%s) - sql_t0 ))s)"
