#!/usr/bin/env bash
# test_unresolvable_hostname.sh — `./dev db-start` works on a machine whose host name does
# not resolve (issue 15, item 10).
#
# A scratch copy of `dev` (db-start, db-shell and db-stop read no other file of the tree)
# runs in its own UTS, mount, network and PID namespaces: the host name is one that can
# never resolve (.invalid), /etc/hosts is empty and the name service reads only it, and the
# network has nothing but loopback, so no DNS server is reachable either. The test proves
# that premise, then that the real `dev` installs, starts and serves its private MariaDB
# there, then that a copy of `dev` without `--force` fails there (what item 10 fixed).
#
# Safe to run beside other tests: the data dir and unix socket are under the scratch
# directory, the TCP port is in the private network namespace, and the host name and
# /etc/hosts change only inside the namespaces. --kill-child with the PID namespace ends
# every process started inside (mariadbd included) when the test ends, however it ends.
#
# Usage: test_unresolvable_hostname.sh SOURCE_ROOT. Exit 77 (skipped) unless run as root
# with namespaces available; CI runs as root.
set -euo pipefail

UNRESOLVABLE=ctgw-no-such-host.invalid

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
step() { printf -- '--- %s\n' "$*" >&2; }

# ---------------------------------------------------------------- inside the namespaces

# Bring up loopback in the new network namespace (mariadbd binds 127.0.0.1) with the
# SIOCGIFFLAGS/SIOCSIFFLAGS ioctls: python3 is one of dev's packages, `ip` is not.
loopback_up() {
    python3 - <<'PY'
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
req = struct.pack("16sh", b"lo", 0)
flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, req))[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 0x1))
PY
}

isolate_names() { # scratch dir
    hostname "$UNRESOLVABLE"
    : >"$1/hosts"
    mount --bind "$1/hosts" /etc/hosts
    printf 'hosts: files\n' >"$1/nsswitch.conf"
    mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf
    loopback_up
}

prove_premise() {
    [[ "$(hostname)" == "$UNRESOLVABLE" ]] || fail "the host name is $(hostname), not $UNRESOLVABLE"
    if getent hosts "$UNRESOLVABLE"; then
        fail "getent resolves $UNRESOLVABLE; the test's premise does not hold"
    fi
    # resolveip is what mariadb-install-db asks when it is not given --force; it only fails
    # when localhost does not resolve either (otherwise it warns and goes on).
    local name
    for name in "$UNRESOLVABLE" localhost; do
        if resolveip "$name" >/dev/null 2>&1; then
            fail "resolveip resolves $name; the test's premise does not hold"
        fi
    done
}

# A copy of dev that calls mariadb-install-db without --force must fail here: otherwise
# this namespace does not reproduce the machine of item 10.
without_force_fails() { # scratch dir
    local dir="$1/without-force" out rc=0
    mkdir -p "$dir"
    sed 's/^\(        mariadb-install-db .*\) --force /\1 /' "$1/with/dev" >"$dir/dev"
    chmod 755 "$dir/dev"
    if cmp -s "$1/with/dev" "$dir/dev"; then
        fail "found no 'mariadb-install-db ... --force' line in dev to take --force from"
    fi
    out="$(cd "$dir" && timeout 60 ./dev db-start 2>&1)" || rc=$?
    if ((rc == 0)); then
        timeout 60 "$dir/dev" db-stop >/dev/null 2>&1 || true
        fail "dev without --force started MariaDB on an unresolvable host name; the test proves nothing"
    fi
    grep -qF "Neither host '$UNRESOLVABLE' nor 'localhost' could be looked up" <<<"$out" ||
        fail "dev without --force failed (exit $rc) for another reason than the host name: $out"
}

dev_starts_and_serves() { # scratch dir
    local dir="$1/with" port answer
    (cd "$dir" && timeout 90 ./dev db-start) || fail "./dev db-start failed"
    answer="$(cd "$dir" && timeout 30 ./dev db-shell -N -e 'SELECT 1')" ||
        fail "./dev db-shell could not run SELECT 1"
    [[ "$answer" == 1 ]] || fail "SELECT 1 through ./dev db-shell answered '$answer'"
    # The server never resolves client addresses (skip-name-resolve in dev's my.cnf).
    answer="$(cd "$dir" && timeout 30 ./dev db-shell -N -e 'SELECT @@skip_name_resolve')" ||
        fail "./dev db-shell could not read @@skip_name_resolve"
    [[ "$answer" == 1 ]] || fail "the server runs with skip_name_resolve=$answer"
    # ctgw's way in: TCP with TLS, the server verified against dev's CA by its IP.
    port="$(cat "$dir/.local/mariadb/port")"
    answer="$(MYSQL_PWD="$(cat "$dir/.local/secrets/db_password")" timeout 30 mariadb \
        --no-defaults -h 127.0.0.1 -P "$port" -u ctgw --ssl-ca="$dir/.local/mariadb/tls/ca.pem" \
        --ssl-verify-server-cert -N -e 'SELECT 1')" || fail "ctgw could not log in over TCP+TLS"
    [[ "$answer" == 1 ]] || fail "SELECT 1 as ctgw over TCP answered '$answer'"
    (cd "$dir" && timeout 90 ./dev db-stop) || fail "./dev db-stop failed"
    [[ ! -e "$dir/.local/mariadb/mariadbd.pid" ]] || fail "./dev db-stop left mariadbd.pid"
}

if [[ "${1:-}" == --inside ]]; then
    scratch="$2"
    step "host name $UNRESOLVABLE, empty /etc/hosts, hosts: files, loopback-only network"
    isolate_names "$scratch"
    prove_premise
    step "dev db-start, db-shell, db-stop"
    dev_starts_and_serves "$scratch"
    step "dev without --force fails there"
    without_force_fails "$scratch"
    echo "ok: ./dev db-start works where the host name does not resolve"
    exit 0
fi

# ---------------------------------------------------------------- outside

root="${1:?usage: $0 SOURCE_ROOT}"
if [[ "$(id -u)" != 0 ]]; then
    echo "SKIP: needs root (hostname, mount and network namespaces)"
    exit 77
fi
if ! command -v unshare >/dev/null || ! unshare --uts --mount --net --pid --fork true 2>/dev/null; then
    echo "SKIP: cannot make UTS, mount, network and PID namespaces here (unshare)"
    exit 77
fi

scratch="$(mktemp -d "${TMPDIR:-/tmp}/ctgw-hostname.XXXXXX")"
inner=""
# timeout passes the TERM on to unshare, whose death ends the namespaces' processes.
end() {
    if [[ -n "$inner" ]]; then
        kill -TERM "$inner" 2>/dev/null || true
        wait "$inner" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap end EXIT
trap 'exit 143' TERM INT HUP
mkdir -p "$scratch/with"
cp "$root/dev" "$scratch/with/dev"
chmod 755 "$scratch/with/dev"

timeout 240 unshare --uts --mount --net --pid --kill-child --mount-proc \
    bash "$(realpath "$0")" --inside "$scratch" &
inner=$!
wait "$inner"
