#!/usr/bin/env bash
# Record pcaps/ again from scratch: real mosquitto_pub / mosquitto_sub sessions through real
# PROXY-protocol senders (HAProxy send-proxy, send-proxy-v2, send-proxy-v2-ssl-cn with TLS and
# a client certificate; nginx stream `proxy_protocol on`), received by ppbroker.
#
# Usage: scripts/record-pcaps.sh [OUTDIR]          (default: pcaps/ in this tree)
# Environment:
#   PPBROKER=PATH           the broker binary (default: build/bin/ppbroker, else build-*/bin/ppbroker)
#   PPC_PCAP_PORT_BASE=N    first of the 4 fixed frontend ports (default 18930: N..N+3)
#   PPC_PCAP_KEEP_TMP=1     keep the temp dir (configs, PKI, logs) for debugging
#
# Needs root (tcpdump on lo), haproxy, nginx + libnginx-mod-stream, mosquitto-clients, tcpdump,
# tshark, openssl (scripts/deps.sh test). Everything listens on 127.0.0.0/8 only. Every
# process it starts is stopped by its PID on exit, and the temp dir is removed. Readiness is
# polled with a deadline (ss for ports, the ready file for ppbroker, tcpdump's "listening on"
# line), never assumed after a sleep.
#
# Each client session is captured in its own file, with tcpdump filtering on the broker port
# only, so a file holds exactly one TCP flow: the PROXY header and the MQTT session as the
# broker saw them. The TLS case also keeps the client side (mosquitto_pub <-> HAProxy).
# Client ids, source addresses, topics and payloads are fixed; ports and times vary per run.
set -Eeuo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
outdir=${1:-$repo/pcaps}
port_base=${PPC_PCAP_PORT_BASE:-18930}

say() { printf 'record-pcaps: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ---- prerequisites ------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || die "must run as root (tcpdump captures on lo)"
for tool in haproxy nginx mosquitto_pub mosquitto_sub tcpdump tshark openssl ss; do
  command -v "$tool" >/dev/null || die "$tool not found (install with: scripts/deps.sh test)"
done
nginx_stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
[ -f "$nginx_stream_module" ] || die "$nginx_stream_module missing (apt-get install libnginx-mod-stream)"

find_ppbroker() {
  if [ -n "${PPBROKER:-}" ]; then printf '%s\n' "$PPBROKER"; return; fi
  local b
  for b in "$repo/build/bin/ppbroker" "$repo"/build-*/bin/ppbroker; do
    [ -x "$b" ] && { printf '%s\n' "$b"; return; }
  done
  return 1
}
ppbroker=$(find_ppbroker) || die "no ppbroker binary: build it (cmake --build build --target ppbroker) or set PPBROKER"
[ -x "$ppbroker" ] || die "PPBROKER=$ppbroker is not executable"
ppdecode=$(dirname "$ppbroker")/ppdecode   # optional: decodes each header into recording.txt

# ---- processes and cleanup ----------------------------------------------------------------

tmp=$(mktemp -d /tmp/ppc-record-pcaps-XXXXXX)
declare -a pids=()   # every long-running process we started, stopped by PID on exit

stop_pid() { # PID [SIGNAL]: signal, wait up to 5 s, then SIGKILL
  local pid=$1 sig=${2:-TERM} i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -"$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$pid" 2>/dev/null && { say "pid $pid ignored SIG$sig, killing"; kill -KILL "$pid" 2>/dev/null || true; }
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}
forget_pid() { # a stopped PID must not be signalled again at exit (it may be reused)
  local -a keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

cleanup() {
  local rc=$? i
  local -a running=("${pids[@]}")
  for ((i = ${#running[@]} - 1; i >= 0; i--)); do stop_pid "${running[i]}"; done
  if [ "${PPC_PCAP_KEEP_TMP:-0}" = 1 ]; then say "temp dir kept: $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say "failed at line $LINENO: $BASH_COMMAND"' ERR
trap 'say "interrupted"; exit 130' INT TERM

now_ms() { date +%s%3N; }

# wait_for DESCRIPTION TIMEOUT_S PID|- COMMAND...: poll COMMAND every 50 ms until it succeeds,
# the deadline passes, or PID (the process that should make it true) exits.
wait_for() {
  local what=$1 timeout_s=$2 pid=$3; shift 3
  local deadline=$(($(now_ms) + timeout_s * 1000))
  while ! "$@"; do
    if [ "$pid" != - ] && ! kill -0 "$pid" 2>/dev/null; then
      say "gave up waiting for $what: process $pid exited"; return 1
    fi
    [ "$(now_ms)" -lt "$deadline" ] || { say "gave up waiting for $what after ${timeout_s}s"; return 1; }
    sleep 0.05
  done
}

port_listening() { [ -n "$(ss -Hltn "sport = :$2" 2>/dev/null | awk -v a="$1:$2" '$4 == a')" ]; }
port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
file_has() { [ -f "$1" ] && grep -q -- "$2" "$1"; }

# ---- PKI (openssl CLI, throwaway) -----------------------------------------------------------

make_pki() {
  local d=$tmp/pki
  mkdir -p "$d"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 -new "${ec[@]}" -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
    -subj "/CN=ppconform pcaps CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  issue_cert() { # NAME CN EXTENSIONS
    openssl req -new "${ec[@]}" -keyout "$d/$1.key" -out "$d/$1.csr" -subj "/CN=$2" 2>/dev/null
    printf '%s\n' "$3" > "$d/$1.ext"
    openssl x509 -req -in "$d/$1.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
      -days 2 -extfile "$d/$1.ext" -out "$d/$1.crt" 2>/dev/null
  }
  issue_cert server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2
extendedKeyUsage=serverAuth"
  issue_cert alice alice "extendedKeyUsage=clientAuth"
  issue_cert bob bob "extendedKeyUsage=clientAuth"
  cat "$d/server.crt" "$d/server.key" > "$d/server.pem" # HAProxy's crt: certificate then key
}

# ---- ppbroker ---------------------------------------------------------------------------------

# Two PROXY listeners on port 0: "pp" for the plain paths, "ppcn" for the TLS path with the
# carried CN used as the MQTT username (the broker records username_source "cn").
start_ppbroker() {
  cat > "$tmp/ppbroker.conf" <<EOF
listener.tcp.pp = 127.0.0.1:0
listener.tcp.pp.proxy_protocol = on
listener.tcp.pp.proxy_protocol_versions = 1,2
listener.tcp.ppcn = 127.0.0.1:0
listener.tcp.ppcn.proxy_protocol = on
listener.tcp.ppcn.proxy_protocol_versions = 2
listener.tcp.ppcn.proxy_protocol_use_cn_as_username = on
allow_anonymous = on
admin.listener = 127.0.0.1:0
log.console.level = info
EOF
  "$ppbroker" --check-config -c "$tmp/ppbroker.conf" >"$tmp/ppbroker-check.log" 2>&1 ||
    { cat "$tmp/ppbroker-check.log" >&2; die "ppbroker refused its config"; }
  "$ppbroker" -c "$tmp/ppbroker.conf" --ready-file "$tmp/ppbroker.ready" >"$tmp/ppbroker.log" 2>&1 &
  broker_pid=$!
  pids+=("$broker_pid")
  wait_for "ppbroker ready file" 10 "$broker_pid" file_has "$tmp/ppbroker.ready" '"listeners"' ||
    { cat "$tmp/ppbroker.log" >&2; die "ppbroker did not start"; }
  # {"listeners":{"pp":{"kind":"tcp","address":"127.0.0.1:40002",...},...}}
  ready_port() { sed -n "s/.*\"$1\":{[^}]*\"address\":\"127\.0\.0\.1:\([0-9]*\)\".*/\1/p" "$tmp/ppbroker.ready"; }
  broker_port=$(ready_port pp)
  broker_cn_port=$(ready_port ppcn)
  admin_addr=$(sed -n 's/.*"admin":"\([^"]*\)".*/\1/p' "$tmp/ppbroker.ready")
  if [ -z "$broker_port" ] || [ -z "$broker_cn_port" ] || [ -z "$admin_addr" ]; then
    die "cannot read the listener ports from $(cat "$tmp/ppbroker.ready")"
  fi
  say "ppbroker $ppbroker: pp=127.0.0.1:$broker_port ppcn=127.0.0.1:$broker_cn_port admin=$admin_addr"
}

# ---- HAProxy and nginx (the PROXY senders) ------------------------------------------------

# Frontends listen on 127.0.0.2 (HAProxy) and 127.0.0.3 (nginx); clients bind their own
# 127.0.0.N, so each header's source differs from the proxy's own address, which is the
# real peer the broker sees (127.0.0.1).
hap_v1=$port_base hap_v2=$((port_base + 1)) hap_tls=$((port_base + 2)) ngx_v1=$((port_base + 3))

start_haproxy() {
  cat > "$tmp/haproxy.cfg" <<EOF
global
    log stdout format raw local0
    maxconn 64
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 2s
    timeout client  10s
    timeout server  10s
frontend fe_v1
    bind 127.0.0.2:$hap_v1
    default_backend be_v1
backend be_v1
    server ppbroker 127.0.0.1:$broker_port send-proxy
frontend fe_v2
    bind 127.0.0.2:$hap_v2
    default_backend be_v2
backend be_v2
    server ppbroker 127.0.0.1:$broker_port send-proxy-v2
frontend fe_v2_ssl_cn
    bind 127.0.0.2:$hap_tls ssl crt $tmp/pki/server.pem ca-file $tmp/pki/ca.crt verify required
    default_backend be_v2_ssl_cn
backend be_v2_ssl_cn
    server ppbroker 127.0.0.1:$broker_cn_port send-proxy-v2-ssl-cn
EOF
  haproxy -c -q -f "$tmp/haproxy.cfg" >"$tmp/haproxy-check.log" 2>&1 ||
    { cat "$tmp/haproxy-check.log" >&2; die "haproxy refused its config"; }
  haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  local p
  for p in "$hap_v1" "$hap_v2" "$hap_tls"; do
    wait_for "haproxy on 127.0.0.2:$p" 10 "$pid" port_listening 127.0.0.2 "$p" ||
      { cat "$tmp/haproxy.log" >&2; die "haproxy did not start"; }
  done
}

start_nginx() {
  mkdir -p "$tmp/nginx"
  cat > "$tmp/nginx/nginx.conf" <<EOF
load_module $nginx_stream_module;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log info;
events { worker_connections 64; }
stream {
    access_log off;
    server {
        listen 127.0.0.3:$ngx_v1;
        proxy_pass 127.0.0.1:$broker_port;
        proxy_protocol on;
    }
}
EOF
  nginx -t -q -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx-check.log" 2>&1 ||
    { cat "$tmp/nginx-check.log" "$tmp/nginx/error.log" >&2; die "nginx refused its config"; }
  nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' \
    >"$tmp/nginx/out.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_for "nginx on 127.0.0.3:$ngx_v1" 10 "$pid" port_listening 127.0.0.3 "$ngx_v1" ||
    { cat "$tmp/nginx/out.log" "$tmp/nginx/error.log" >&2; die "nginx did not start"; }
}

# ---- captures -------------------------------------------------------------------------------

# start_capture FILE PORT: tcpdump on lo for that port only; returns once it is listening.
# -Z root: keep root so the file lands in our root-owned temp dir. --immediate-mode: without
# it packets can sit in an unretired kernel block when we stop (interop.md §5).
start_capture() {
  local file=$1 port=$2
  tcpdump -i lo -Z root --immediate-mode -B 8192 -U -s 0 -w "$file" "tcp port $port" 2>"$file.err" &
  capture_pid=$!
  pids+=("$capture_pid")
  wait_for "tcpdump listening (port $port)" 10 "$capture_pid" file_has "$file.err" 'listening on' ||
    { cat "$file.err" >&2; die "tcpdump did not start"; }
}

# True once the capture holds the end of its flow: a RST, or a FIN from both ends followed
# by the last ACK. Read with tcpdump itself; -U writes each packet as it arrives.
flow_closed() {
  tcpdump -nn -r "$1" 2>/dev/null | awk '
    { src = $3; flags = "" ; if (match($0, /Flags \[[^]]*\]/)) flags = substr($0, RSTART + 7, RLENGTH - 8) }
    flags ~ /R/ { rst = 1 }
    flags ~ /F/ { fin[src] = 1; last_fin = NR }
    END { n = 0; for (s in fin) n++; exit !(rst || (n >= 2 && NR > last_fin)) }'
}

# finish_capture FILE PID: wait (bounded) for the flow to end, stop tcpdump by its PID, and
# say whether the file is whole: the end of the flow is in it and tcpdump dropped nothing.
finish_capture() {
  local file=$1 pid=$2 whole=0
  wait_for "the end of the TCP flow in $(basename "$file")" 3 "$pid" flow_closed "$file" && whole=1
  stop_pid "$pid" INT
  grep -q '^0 packets dropped by kernel' "$file.err" ||
    { say "$(basename "$file"): tcpdump reports $(grep 'dropped by kernel' "$file.err" || echo 'no statistics')"; whole=0; }
  [ "$whole" = 1 ] && flow_closed "$file"
}

run_client() { # LOG COMMAND...: a client with a hard bound, its output kept for recording.txt
  local log=$1; shift
  { printf '$'; printf ' %q' "$@"; printf '\n'; } >>"$log"
  timeout 20 "$@" >>"$log" 2>&1
}

# capture_session FILE BROKER_PORT CLIENT_FILE|- CLIENT_PORT|- COMMAND...: run one client
# session under tcpdump (and a second tcpdump on the frontend port when CLIENT_FILE is given).
# A capture that lost a packet (tcpdump "dropped by kernel" on a busy machine) is recorded
# again, up to 3 times; the sessions are idempotent (same ids, same retained message).
capture_session() {
  local file=$1 bport=$2 cfile=$3 cport=$4 attempt broker_cap client_cap whole
  shift 4
  for attempt in 1 2 3; do
    rm -f "$file" "$file.err"
    [ "$cfile" = - ] || rm -f "$cfile" "$cfile.err"
    start_capture "$file" "$bport"
    broker_cap=$capture_pid
    if [ "$cfile" != - ]; then start_capture "$cfile" "$cport"; client_cap=$capture_pid; fi
    "$@"
    whole=1
    finish_capture "$file" "$broker_cap" || whole=0
    if [ "$cfile" != - ]; then finish_capture "$cfile" "$client_cap" || whole=0; fi
    [ "$whole" = 1 ] && return 0
    say "$(basename "$file"): incomplete capture (attempt $attempt of 3)"
  done
  die "could not capture $(basename "$file") whole in 3 attempts"
}

publish() { # NAME HOST PORT SRC [TLS OPTIONS...]: MQTT 3.1.1, QoS 1, retained, then DISCONNECT
  local name=$1 host=$2 port=$3 src=$4; shift 4
  run_client "$tmp/clients.log" mosquitto_pub -h "$host" -p "$port" -A "$src" "$@" \
    -V mqttv311 -i "ppc-pub-$name" -q 1 -r -t "ppc/$name" -m "hello from $name" ||
    { cat "$tmp/clients.log" >&2; die "mosquitto_pub through $name failed"; }
}

subscribe() { # NAME HOST PORT SRC [TLS OPTIONS...]: MQTT 5.0, gets the retained message, DISCONNECT
  local name=$1 host=$2 port=$3 src=$4 mark
  shift 4
  mark=$(wc -l <"$tmp/clients.log")
  run_client "$tmp/clients.log" mosquitto_sub -h "$host" -p "$port" -A "$src" "$@" \
    -V mqttv5 -i "ppc-sub-$name" -q 1 -t "ppc/$name" -C 1 -W 10 -v ||
    { cat "$tmp/clients.log" >&2; die "mosquitto_sub through $name failed"; }
  tail -n +"$((mark + 1))" "$tmp/clients.log" | grep -q "^ppc/$name hello from $name\$" ||
    { cat "$tmp/clients.log" >&2; die "mosquitto_sub through $name did not receive the retained message"; }
}

# record NAME FRONT_ADDR FRONT_PORT BROKER_PORT SRC_PUB SRC_SUB [tls]
# Two sessions, one capture each, in this order so that each flow stands on its own:
#   NAME-pub.pcap  mosquitto_pub (MQTT 3.1.1) publishes a retained QoS 1 message
#   NAME-sub.pcap  mosquitto_sub (MQTT 5.0) subscribes and receives it
# With tls, NAME-client-tls.pcap keeps the client side of the publisher's session too.
record() {
  local name=$1 host=$2 port=$3 bport=$4 src_pub=$5 src_sub=$6 tls=${7:-}
  local -a pub_tls=() sub_tls=()
  local client_file=-
  if [ -n "$tls" ]; then
    pub_tls=(--cafile "$tmp/pki/ca.crt" --cert "$tmp/pki/alice.crt" --key "$tmp/pki/alice.key")
    sub_tls=(--cafile "$tmp/pki/ca.crt" --cert "$tmp/pki/bob.crt" --key "$tmp/pki/bob.key")
    client_file=$tmp/out/$name-client-tls.pcap
  fi
  say "$name: mosquitto_pub via $host:$port -> broker port $bport"
  capture_session "$tmp/out/$name-pub.pcap" "$bport" "$client_file" "$port" \
    publish "$name" "$host" "$port" "$src_pub" "${pub_tls[@]}"
  say "$name: mosquitto_sub via $host:$port -> broker port $bport"
  capture_session "$tmp/out/$name-sub.pcap" "$bport" - - \
    subscribe "$name" "$host" "$port" "$src_sub" "${sub_tls[@]}"
}

# ---- provenance -------------------------------------------------------------------------------

admin_get() { curl -fs --max-time 5 "http://$admin_addr$1"; }

write_provenance() {
  local f=$tmp/out/recording.txt header_hex
  {
    echo "# Written by scripts/record-pcaps.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Ports and times differ per run."
    echo
    echo "## Software"
    haproxy -v | sed -n 1p
    nginx -v 2>&1
    { mosquitto_pub --help || true; } | sed -n 2p   # --help exits 1; line 2 has the version
    tcpdump --version 2>&1 | sed -n 1p
    tshark --version 2>/dev/null | sed -n 1p
    openssl version
    echo "ppbroker: $("$ppbroker" --version 2>&1 | sed -n 1p)"
    echo
    echo "## Ports"
    echo "ppbroker listener pp   127.0.0.1:$broker_port  (HAProxy v1, v2, nginx v1)"
    echo "ppbroker listener ppcn 127.0.0.1:$broker_cn_port  (HAProxy v2-ssl-cn)"
    echo "HAProxy 127.0.0.2:$hap_v1 send-proxy, :$hap_v2 send-proxy-v2, :$hap_tls TLS send-proxy-v2-ssl-cn"
    echo "nginx   127.0.0.3:$ngx_v1 proxy_protocol on"
    echo
    echo "## ppbroker.conf"; cat "$tmp/ppbroker.conf"
    echo; echo "## haproxy.cfg"; cat "$tmp/haproxy.cfg"
    echo; echo "## nginx.conf"; cat "$tmp/nginx/nginx.conf"
    echo; echo "## Client commands and their output"; cat "$tmp/clients.log"
    echo; echo "## ppbroker events (GET /api/v1/events)"
    { admin_get /api/v1/events || echo "(admin API not reachable)"; } | sed 's/,{"seq"/,\n{"seq"/g'   # one event a line
    echo
    local p
    for p in "$tmp"/out/*.pcap; do
      echo; echo "## $(basename "$p")"
      capinfos -c -s "$p" 2>/dev/null | sed -n 's/^\(Number of packets\|File size\): *\(.*\)/\1: \2/p'
      tshark -r "$p" 2>/dev/null | sed 's/\(Len=[0-9]*\).*/\1/; s/^ *//'   # one line a packet
      echo "### tshark -Y proxy -O proxy (its SSL sub-TLV decoding is incomplete, see README)"
      tshark -r "$p" -Y proxy -O proxy 2>/dev/null | sed -n '/^PROXY Protocol/,/^$/p'
      case $p in *-client-tls.pcap) continue ;; esac   # encrypted: nothing more to decode
      # Both senders write the header in a segment of its own: the first one with data.
      header_hex=$(tshark -r "$p" -Y 'tcp.len > 0' -T fields -e tcp.payload 2>/dev/null | sed -n 1p)
      if [ -x "$ppdecode" ]; then
        echo "### ppdecode of the first client segment (the project's decoder)"
        "$ppdecode" "$header_hex" || true
      fi
      echo "### bytes each way (tshark -q -z follow,tcp,hex,0; indented lines are broker to client)"
      tshark -r "$p" -q -z follow,tcp,hex,0 2>/dev/null | sed -n '/^Node 1:/,/^=====/p' | sed '1d;$d'
    done
  } >"$f"
}

# ---- main -----------------------------------------------------------------------------------

for p in "$hap_v1" "$hap_v2" "$hap_tls" "$ngx_v1"; do
  port_free "$p" || die "port $p is in use (set PPC_PCAP_PORT_BASE to move the 4 frontend ports)"
done
mkdir -p "$tmp/out"
: >"$tmp/clients.log"
make_pki
start_ppbroker
start_haproxy
start_nginx

record haproxy-send-proxy-v1 127.0.0.2 "$hap_v1" "$broker_port" 127.0.0.11 127.0.0.12
record haproxy-send-proxy-v2 127.0.0.2 "$hap_v2" "$broker_port" 127.0.0.21 127.0.0.22
record haproxy-send-proxy-v2-ssl-cn 127.0.0.2 "$hap_tls" "$broker_cn_port" 127.0.0.31 127.0.0.32 tls
record nginx-proxy-protocol-v1 127.0.0.3 "$ngx_v1" "$broker_port" 127.0.0.41 127.0.0.42

write_provenance
rm -f "$tmp"/out/*.err

# Replace only the files this script owns, so a failed run leaves the old set intact.
mkdir -p "$outdir"
cp "$tmp"/out/*.pcap "$tmp/out/recording.txt" "$outdir"/
say "wrote to $outdir:"
for f in "$tmp"/out/*.pcap "$tmp/out/recording.txt"; do
  printf '  %6d  %s\n' "$(stat -c %s "$f")" "$(basename "$f")" >&2
done
