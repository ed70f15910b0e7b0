#!/usr/bin/env bash
# Makes sure a PostgreSQL answers on 127.0.0.1:5432 for the store tests:
# when nothing answers and IDPKIT_TEST_POSTGRES is unset, installs Debian's
# postgresql, allows trust auth on loopback and creates the database "test".
set -euo pipefail
if [ -n "${IDPKIT_TEST_POSTGRES:-}" ]; then exit 0; fi
answers() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
if answers; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "nothing answers on 127.0.0.1:5432; installing Debian's postgresql with apt-get" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
ver=$(ls /etc/postgresql | sort -V | tail -1)
hba=/etc/postgresql/$ver/main/pg_hba.conf
if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
  $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
fi
$SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main reload || true
for _ in $(seq 1 30); do answers && break; sleep 1; done
answers || { echo "PostgreSQL does not answer on 127.0.0.1:5432; start it or set IDPKIT_TEST_POSTGRES" >&2; exit 1; }
psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 || psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test' >/dev/null
