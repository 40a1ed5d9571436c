#!/usr/bin/env bash
# Executes every notebook headless on the outputs of a small run (notebooks/demo_runs.sh), as CI does.
# Creates notebooks/.venv from requirements.txt (from PyPI) when missing or out of date. The executed
# notebooks and their figures go to a temporary folder (or $NOTEBOOKS_OUT when set), never into the
# repository. Exits non-zero when any notebook fails.
# Usage: notebooks/run.sh            (PACBAYES_BIN may name the pacbayes binary to use)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
wanted=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "== creating $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  echo "$wanted" >"$stamp"
fi

# Notebooks are committed without outputs: executed copies go to $out only.
"$venv/bin/python" - "$here"/*.ipynb <<'PY'
import sys

import nbformat

dirty = [
    path for path in sys.argv[1:]
    if any(c.get("outputs") or c.get("execution_count") for c in nbformat.read(path, as_version=4).cells)
]
if dirty:
    sys.exit(f"notebooks committed with outputs (clear them): {', '.join(dirty)}")
PY

work=$(mktemp -d "${TMPDIR:-/tmp}/pacbayes-notebooks.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=${NOTEBOOKS_OUT:-$work/out}
mkdir -p "$out"

echo "== demo runs" >&2
"$here/demo_runs.sh" "$work/demo" >/dev/null

export PATH="$venv/bin:$PATH"
export PACBAYES_RESULTS="$work/demo/results"
export PACBAYES_RUNS="$work/demo/runs"
export PACBAYES_FIGURES="$out"
export MPLCONFIGDIR="$work/matplotlib"
export PYTHONDONTWRITEBYTECODE=1
export JUPYTER_PLATFORM_DIRS=1

failed=0
total=0
for notebook in "$here"/*.ipynb; do
  total=$((total + 1))
  name=$(basename "$notebook" .ipynb)
  echo "== $name" >&2
  if ! jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
    --ExecutePreprocessor.kernel_name=python3 --output-dir "$out" "$notebook" 2>"$work/$name.log"; then
    cat "$work/$name.log" >&2
    echo "FAILED: $name" >&2
    failed=$((failed + 1))
  elif [ ! -s "$out/$name.png" ] || ! grep -q '"image/png"' "$out/$name.ipynb"; then
    echo "FAILED: $name showed or saved no figure ($out/$name.png)" >&2
    failed=$((failed + 1))
  fi
done
echo "notebooks: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
