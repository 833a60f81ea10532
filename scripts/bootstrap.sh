#!/usr/bin/env bash
# Install what Controlbook needs on a Debian machine with Python 3.11+, idempotently:
# the system libraries WeasyPrint uses, then a virtual environment (.venv) with the
# exact versions in requirements.lock, then the package itself (editable).
#   scripts/bootstrap.sh          runtime needs (build the catalog)
#   scripts/bootstrap.sh --test   also what the test suite needs (requirements-dev.lock,
#                                 PDF and browser tools)
# Works with Debian 12's and 13's own python3 (3.11.2, 3.13) or any CPython 3.11.2+.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
lock=requirements.lock
if [[ "${1:-}" == "--test" ]]; then
  # libatomic1: Playwright's bundled node driver; nodejs runs the CI example's comment script;
  # libreoffice-calc-nogui: opens the reviewer worksheets as a real spreadsheet client
  packages+=(poppler-utils chromium libatomic1 nodejs libreoffice-calc-nogui)
  lock=requirements-dev.lock
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing system packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
stamp=.venv/.controlbook-$lock
if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
if ! cat requirements.lock "$lock" | cmp -s - "$stamp" 2>/dev/null; then
  echo "bootstrap: installing pinned Python packages ($lock)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$lock"
  cat requirements.lock "$lock" >"$stamp"
fi
if ! .venv/bin/python -c "import generator.resources" 2>/dev/null || [[ ! -x .venv/bin/controlbook ]]; then
  # editable: the build backend comes pinned from pyproject.toml's build-system
  .venv/bin/python -m pip install -q --no-deps -e .
fi
