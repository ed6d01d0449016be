# Sourced by the other scripts: a virtualenv with the pinned requirements, made or brought up to date.
# Needs only python3 (3.11 or newer) on the PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
REQ=${1:-requirements.txt}
if [ ! -x .venv/bin/python ]; then
  echo "» creating virtualenv .venv"
  "$PY" -m venv .venv
fi
stamp=".venv/.installed-$(cat requirements.txt "$REQ" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "» installing pinned requirements ($REQ)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQ"
  touch "$stamp"
fi
export FLASK_APP=wsgi
