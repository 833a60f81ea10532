#!/usr/bin/env bash
# Re-pin requirements.lock (runtime) and requirements-dev.lock (tests, lint, packaging).
# Versions are resolved for the oldest supported Python (3.11.2, Debian 12's python3) with
# wheels only, then checked to install on 3.13 (Debian 13) as well, so one lock serves
# every supported machine and the outputs rebuild byte for byte on all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
oldest=3.11.2
others=(3.12 3.13)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

resolve() { # resolve OUT SPEC...: the exact versions pip picks for $oldest
  python3 -m pip install -q --dry-run --ignore-installed --only-binary=:all: \
    --python-version "$oldest" --target "$work/t" --report "$work/report.json" "${@:2}"
  python3 - "$work/report.json" >"$1" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["install"]
pins = {f'{i["metadata"]["name"]}=={i["metadata"]["version"]}' for i in items
        if i["metadata"]["name"].lower() != "controlbook"}
print("\n".join(sorted(pins, key=str.lower)))
PY
}

resolve "$work/runtime" .
resolve "$work/all" ".[dev]" "$(grep -o 'hatchling==[0-9.]*' pyproject.toml)"
{
  echo "# Exact versions of every runtime dependency, so that the site and the signed PDFs rebuild"
  echo "# byte for byte from the same commit, on every supported Python (3.11.2 to 3.13)."
  echo "# Install with: pip install -r requirements.lock .   Regenerate with: make lock"
  cat "$work/runtime"
} >requirements.lock
{
  echo "# The test, lint and packaging tools, exact versions, on top of the runtime lock."
  echo "# Regenerate with: make lock"
  echo "-r requirements.lock"
  grep -vxF -f "$work/runtime" "$work/all"
} >requirements-dev.lock
scripts/check_lock.sh
