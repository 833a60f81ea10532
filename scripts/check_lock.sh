#!/usr/bin/env bash
# Does the lock install on every supported Python? Asks pip to resolve requirements-dev.lock
# (which includes requirements.lock) for each version, wheels only, without installing.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for version in 3.11.2 3.12 3.13; do
  if out=$(python3 -m pip install -q --dry-run --ignore-installed --only-binary=:all: \
    --python-version "$version" --target "$(mktemp -d)" -r requirements-dev.lock 2>&1); then
    echo "lock: installs on Python $version"
  else
    echo "lock: does NOT install on Python $version:"; grep -E '^ERROR' <<<"$out" >&2; status=1
  fi
done
exit $status
