# lib.sh — shell helpers the bench drivers (bench/run, bench/slack, bench/flood) share; sourced
# by them from the repository's root, never run on its own.
# shellcheck shell=bash

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench/%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

stop_pid() { # pid, seconds to wait after SIGTERM before SIGKILL
    local pid="$1" i
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free loopback port in 18000-18999 not in the arguments.
free_port() {
    local p taken
    for ((p = 18000 + RANDOM % 900; p < 19000; p++)); do
        for taken in "$@"; do [[ "$p" == "$taken" ]] && continue 2; done
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    die "no free port in 18000-18999"
}

wait_http() { # url, seconds; succeeds once the URL answers 200
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true)" == 200 ]] &&
            return 0
        sleep 0.1
    done
    return 1
}

sql() { ./dev db-shell -N -B "$@"; }

stat_of() { sed -n "s/^$1=//p" "$2"; } # key, stats file written by a wrk script's done()

mariadbd_pid() { cat .local/mariadb/mariadbd.pid 2>/dev/null || echo 0; }

# utime + stime of a process or thread, in clock ticks, 0 when it is gone: a pid, or a /proc
# path (/proc/PID/task/TID for a thread).
proc_ticks() {
    local p="$1" s
    [[ "$p" == /* ]] || p="/proc/$p"
    s="$(cat "$p/stat" 2>/dev/null)" || { echo 0; return 0; }
    s="${s##*) }" # after the command name, which may hold spaces
    local -a f
    read -r -a f <<<"$s"
    echo $((f[11] + f[12]))
}

machine_ticks() { # "busy total" over all CPUs from /proc/stat (idle and iowait are not busy)
    local -a f
    read -r -a f </proc/stat
    local total=0 i
    for ((i = 1; i < ${#f[@]}; i++)); do total=$((total + f[i])); done
    echo "$((total - f[4] - f[5])) $total"
}

# CPU seconds (user + system) of the children a shell has waited for: the second line of
# `times`, which must run in that shell (not in a $(...) subshell), hence the file.
children_cpu_s() { # file written by `times`
    awk 'NR == 2 {
        t = 0
        for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
        print t
    }' "$1"
}

# Waits (at most QUIET_WAIT seconds) for the machine to be nearly idle: other people's builds
# and tests share it, and a run they overlap measures them too.
wait_quiet() {
    local i b0 t0 b1 t1 busy=0
    for ((i = 0; i < QUIET_WAIT; i++)); do
        read -r b0 t0 <<<"$(machine_ticks)"
        sleep 1
        read -r b1 t1 <<<"$(machine_ticks)"
        busy=$((t1 > t0 ? 100 * $(nproc) * (b1 - b0) / (t1 - t0) : 0))
        ((busy < 20)) && return 0
    done
    echo "    (the machine is still ${busy}% busy after ${QUIET_WAIT}s; measuring anyway)"
}
