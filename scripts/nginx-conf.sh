#!/usr/bin/env bash
# Renders nginx.conf for a layout other than docker-compose.yml's: the upstream replicas, the
# SPA's folder, the certificates' folder, and (for running nginx unprivileged beside other
# servers, as the tests do) the ports, the pid file and the worker user. Nothing else
# changes, so what runs is what was tested. Each pattern must be found exactly as written in
# nginx.conf: the script fails when the two drift apart.
#
#   scripts/nginx-conf.sh --upstream 10.0.0.5:8080 --upstream 10.0.0.6:8080 \
#     --root /srv/ava/frontend/dist --certs /etc/letsencrypt/live/ava.example.com > nginx.conf
set -euo pipefail
cd "$(dirname "$0")/.."

upstreams=() root="" certs="" http_port="" https_port="" pid="" user=""
while [ $# -gt 0 ]; do
  case "$1" in
    --upstream) upstreams+=("$2"); shift 2 ;;
    --root) root="$2"; shift 2 ;;
    --certs) certs="$2"; shift 2 ;;
    --http-port) http_port="$2"; shift 2 ;;
    --https-port) https_port="$2"; shift 2 ;;
    --pid) pid="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    *) echo "nginx-conf.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

conf="$(cat nginx.conf)"

# Replaces the literal text $1 with $2 in the conf, failing when $1 is not there.
swap() {
  if [[ "$conf" != *"$1"* ]]; then
    echo "nginx-conf.sh: nginx.conf no longer contains: $1" >&2
    exit 1
  fi
  conf="${conf//"$1"/"$2"}"
}

if [ ${#upstreams[@]} -gt 0 ]; then
  servers=""
  for u in "${upstreams[@]}"; do servers+="server $u;"$'\n'"        "; done
  swap "server host:8080;" "${servers%$'\n'        }"
fi
[ -n "$root" ] && swap "root /usr/share/nginx/html;" "root $root;"
if [ -n "$certs" ]; then
  swap "/etc/nginx/certs/fullchain.pem" "$certs/fullchain.pem"
  swap "/etc/nginx/certs/privkey.pem" "$certs/privkey.pem"
fi
if [ -n "$http_port" ]; then
  swap "listen 80;" "listen $http_port;"
  swap "listen [::]:80;" "listen [::]:$http_port;"
fi
if [ -n "$https_port" ]; then
  swap "listen 443 ssl http2;" "listen $https_port ssl http2;"
  swap "listen [::]:443 ssl http2;" "listen [::]:$https_port ssl http2;"
  # The redirect names the public port only when it is not the default.
  swap 'return 301 https://$host$request_uri;' "return 301 https://\$host:$https_port\$request_uri;"
fi
[ -n "$pid" ] && swap "pid /var/run/nginx.pid;" "pid $pid;"
[ -n "$user" ] && swap "user nginx;" "user $user;"
printf '%s\n' "$conf"
