#!/usr/bin/env bash
# Builds self-contained release archives for EC2, one per runtime:
#   artifacts/customer-records-<version>-<rid>.tar.gz  (+ .sha256)
# Each archive holds app/ (the publish output, no .NET install needed on the host) and the files install.sh
# needs, so an instance only has to download one object and run install.sh.
#
# Usage: deploy/publish.sh [linux-x64] [linux-arm64]     (default: both)
#        VERSION=1.4.0 deploy/publish.sh linux-arm64      (default version: git describe)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${VERSION:-$(git -C "$repo_root" describe --tags --always --dirty 2>/dev/null || echo local)}
artifacts=$repo_root/artifacts

if [[ $# -eq 0 ]]; then
  set -- linux-x64 linux-arm64
fi

mkdir -p "$artifacts"
# Build output never belongs in git; keeping the rule here avoids touching the shared .gitignore.
printf '*\n' > "$artifacts/.gitignore"

for rid in "$@"; do
  case $rid in
    linux-x64 | linux-arm64) ;;
    *) echo "publish.sh: unsupported runtime '$rid' (use linux-x64 or linux-arm64)" >&2; exit 2 ;;
  esac

  name=customer-records-$version-$rid
  stage=$artifacts/$name
  rm -rf "$stage" "$stage.tar.gz" "$stage.tar.gz.sha256"
  mkdir -p "$stage"

  dotnet publish "$repo_root/src/CustomerRecords.Api/CustomerRecords.Api.csproj" \
    --configuration Release \
    --runtime "$rid" \
    --self-contained true \
    --output "$stage/app" \
    -p:InformationalVersion="$version" \
    -p:GenerateDocumentationFile=false

  install -m 0755 "$repo_root/deploy/ec2/install.sh" "$stage/install.sh"
  install -m 0755 "$repo_root/deploy/ec2/customer-records" "$stage/customer-records"
  install -m 0644 "$repo_root/deploy/ec2/customer-records.service" "$stage/customer-records.service"
  install -m 0644 "$repo_root/deploy/ec2/customer-records.env.example" "$stage/customer-records.env.example"
  install -m 0644 "$repo_root/deploy/ec2/cloudwatch-agent.json" "$stage/cloudwatch-agent.json"
  install -m 0644 "$repo_root/deploy/ec2/cloudwatch-prometheus.yaml" "$stage/cloudwatch-prometheus.yaml"

  # Root-owned entries in the archive: install.sh copies them as they are.
  tar --owner=0 --group=0 --numeric-owner -C "$artifacts" -czf "$stage.tar.gz" "$name"
  (cd "$artifacts" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
  rm -rf "$stage"
  echo "publish.sh: $stage.tar.gz"
done
