#!/usr/bin/env bash
# Installs or upgrades CustomerRecords as a systemd service on Amazon Linux 2023 (any systemd distribution works).
#
#   sudo ./install.sh [--app-dir DIR] [--env-file FILE] [--no-migrate] [--no-start]
#                     [--cloudwatch-agent [--cloudwatch-log-group NAME]]
#
# Run from an unpacked release archive (deploy/publish.sh), whose app/ holds the self-contained publish output.
# Steps: service user -> /opt/customer-records -> /etc/customer-records/customer-records.env -> systemd unit
#        -> `customer-records migrate` -> [CloudWatch agent] -> enable + (re)start. Safe to run again for an upgrade.
# --cloudwatch-agent (EC2, Amazon Linux 2023): installs amazon-cloudwatch-agent with dnf and starts it with
#   cloudwatch-agent.json (Prometheus scrape of /metrics as EMF + OTLP receiver on 127.0.0.1:4317/4318).
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
cloudwatch_agent=0
cloudwatch_log_group=/customer-records/prometheus
readonly agent_dir=/opt/aws/amazon-cloudwatch-agent
readonly agent_config=$agent_dir/etc/customer-records.json

die() { echo "install.sh: $*" >&2; exit 1; }
log() { echo "install.sh: $*"; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --app-dir) app_dir=${2:?--app-dir needs a directory}; shift 2 ;;
    --env-file) env_source=${2:?--env-file needs a file}; shift 2 ;;
    --no-migrate) migrate=0; shift ;;
    --no-start) start=0; shift ;;
    --cloudwatch-agent) cloudwatch_agent=1; shift ;;
    --cloudwatch-log-group) cloudwatch_log_group=${2:?--cloudwatch-log-group needs a log group name}; shift 2 ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
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
if [[ $cloudwatch_agent -eq 1 ]]; then
  for f in cloudwatch-agent.json cloudwatch-prometheus.yaml; do
    [[ -f $here/$f ]] || die "missing $here/$f"
  done
  [[ $cloudwatch_log_group =~ ^[A-Za-z0-9_/.#-]{1,512}$ ]] || die "--cloudwatch-log-group: not a log group name"
fi

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

# 6. The CloudWatch agent, before the service starts pushing OTLP to it: scrapes the loopback /metrics (counters and
#    gauges become EMF metrics in the CustomerRecords namespace) and receives OTLP (histograms -> CloudWatch
#    metrics with percentiles, traces -> X-Ray). The instance role needs CloudWatchAgentServerPolicy.
if [[ $cloudwatch_agent -eq 1 ]]; then
  if [[ ! -x $agent_dir/bin/amazon-cloudwatch-agent-ctl ]]; then
    log "installing amazon-cloudwatch-agent"
    dnf install -y amazon-cloudwatch-agent || die "could not install amazon-cloudwatch-agent (dnf)"
  fi
  install -d -m 0755 "$agent_dir/etc"
  sed "s|\"/customer-records/prometheus\"|\"$cloudwatch_log_group\"|" "$here/cloudwatch-agent.json" > "$agent_config.new"
  chmod 0644 "$agent_config.new"
  mv "$agent_config.new" "$agent_config"
  install -m 0644 "$here/cloudwatch-prometheus.yaml" "$agent_dir/etc/customer-records-prometheus.yaml"
  # fetch-config validates the file, translates it and (-s) (re)starts the agent's systemd unit.
  "$agent_dir/bin/amazon-cloudwatch-agent-ctl" -a fetch-config -m ec2 -s -c "file:$agent_config" \
    || die "the CloudWatch agent rejected $agent_config (see /opt/aws/amazon-cloudwatch-agent/logs/)"
  log "CloudWatch agent running with $agent_config"
fi

# 7. Enable at boot and (re)start. With Type=notify this returns only once the service reports ready.
systemctl enable --quiet "$service"
if [[ $start -eq 1 ]]; then
  systemctl restart "$service" || die "the service did not start: journalctl -u $service -n 100"
  log "$service is $(systemctl is-active "$service")"
fi
