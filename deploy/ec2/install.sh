#!/usr/bin/env bash
# Installs or upgrades CustomerRecords as a systemd service on Amazon Linux 2023 (any systemd distribution works).
#
#   sudo ./install.sh [--app-dir DIR] [--env-file FILE] [--no-migrate] [--no-start]
#
# Run from an unpacked release archive (deploy/publish.sh), whose app/ holds the self-contained publish output.
# Steps: service user -> /opt/customer-records -> /etc/customer-records/customer-records.env -> systemd unit
#        -> `customer-records migrate` -> enable + (re)start. Safe to run again for an upgrade.
set -euo pipefail

readonly service=customer-records
readonly prefix=/opt/customer-records
readonly config_dir=/etc/customer-records
readonly env_file=$config_dir/customer-records.env
readonly unit_file=/etc/systemd/system/customer-records.service
readonly cli=/usr/local/bin/customer-records

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
app_dir=$here/app
env_source=
migrate=1
start=1

die() { echo "install.sh: $*" >&2; exit 1; }
log() { echo "install.sh: $*"; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --app-dir) app_dir=${2:?--app-dir needs a directory}; shift 2 ;;
    --env-file) env_source=${2:?--env-file needs a file}; shift 2 ;;
    --no-migrate) migrate=0; shift ;;
    --no-start) start=0; shift ;;
    -h | --help) sed -n '2,9p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

[[ $EUID -eq 0 ]] || die "run as root (sudo)"
[[ -x $app_dir/CustomerRecords.Api ]] \
  || die "no self-contained publish at $app_dir (build one with deploy/publish.sh, or pass --app-dir)"
for f in customer-records.service customer-records customer-records.env.example; do
  [[ -f $here/$f ]] || die "missing $here/$f"
done
[[ -z $env_source || -f $env_source ]] || die "environment file $env_source not found"

# 1. A system user of its own: no login shell, no home, owns nothing it could rewrite.
if ! getent group "$service" > /dev/null; then
  groupadd --system "$service"
fi
if ! id -u "$service" > /dev/null 2>&1; then
  useradd --system --gid "$service" --no-create-home --home-dir /nonexistent \
    --shell "$(command -v nologin || echo /sbin/nologin)" --comment "CustomerRecords service" "$service"
  log "created user $service"
fi

# 2. The application, owned by root and read-only to the service. Copied beside the live directory and swapped
#    in, so the running process never sees a half-copied tree; the previous release stays for a rollback.
staging=$prefix.new
rm -rf "$staging"
cp -R "$app_dir" "$staging"
chown -R root:root "$staging"
chmod -R u=rwX,go=rX "$staging"
chmod 0755 "$staging/CustomerRecords.Api"
if [[ -d $prefix ]]; then
  rm -rf "$prefix.previous"
  mv "$prefix" "$prefix.previous"
fi
mv "$staging" "$prefix"
log "installed application in $prefix"

# 3. Configuration: readable by the service's group only, because it can hold the Redis AUTH token.
install -d -m 0750 -o root -g "$service" "$config_dir"
if [[ -n $env_source ]]; then
  install -m 0640 -o root -g "$service" "$env_source" "$env_file"
  log "installed $env_file"
elif [[ ! -f $env_file ]]; then
  install -m 0640 -o root -g "$service" "$here/customer-records.env.example" "$env_file"
  install -m 0644 "$here/customer-records.service" "$unit_file"
  install -m 0755 "$here/customer-records" "$cli"
  systemctl daemon-reload
  echo "install.sh: wrote $env_file from the example; fill in the endpoints, then run this script again." >&2
  exit 3
fi
chown root:"$service" "$env_file"
chmod 0640 "$env_file"
if [[ -f $config_dir/rds-ca.pem ]]; then
  chmod 0644 "$config_dir/rds-ca.pem"
fi

# 4. Unit and the one-off command wrapper.
install -m 0644 "$here/customer-records.service" "$unit_file"
install -m 0755 "$here/customer-records" "$cli"
systemctl daemon-reload

# 5. Schema first: a new release may need its migrations before it can serve.
if [[ $migrate -eq 1 ]]; then
  log "applying schema migrations"
  "$cli" migrate || die "migrations failed (output above); the service was not (re)started"
fi

# 6. Enable at boot and (re)start. With Type=notify this returns only once the service reports ready.
systemctl enable --quiet "$service"
if [[ $start -eq 1 ]]; then
  systemctl restart "$service" || die "the service did not start: journalctl -u $service -n 100"
  log "$service is $(systemctl is-active "$service")"
fi
