#!/usr/bin/env bash
# Makes a small set of runs on tests/data/blobs.csv and a tightness table of them, for the notebooks:
#   OUT_DIR/runs/blobs-linear-a{0.2,0.5,0.8}/   run folders (metrics.parquet, certificate.json, ...)
#   OUT_DIR/results/demo/table.{csv,parquet,md,tex}
# Usage: notebooks/demo_runs.sh OUT_DIR
# The binary is $PACBAYES_BIN when set; otherwise the release build of pacbayes-cli (built if needed).
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
data="$repo/tests/data/blobs.csv"

if [ -n "${PACBAYES_BIN:-}" ]; then
  bin=$PACBAYES_BIN
else
  (cd "$repo" && cargo build --release --quiet -p pacbayes-cli)
  target=$(cd "$repo" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  bin="$target/release/pacbayes"
fi
if [ ! -x "$bin" ]; then
  echo "$0: no pacbayes binary at $bin" >&2
  exit 1
fi

runs=()
for alpha in 0.2 0.5 0.8; do
  name="blobs-linear-a$alpha"
  config="$out/$name.toml"
  cat >"$config" <<TOML
name = "$name"
[prior]
dataset = "csv:$data"
architecture = "linear"
sigma0 = 0.1
prior_fraction = $alpha
[prior.training]
epochs = 10
batch_size = 20
learning_rate = 0.05
dropout = 0.0
[posterior]
objective = "f-quad"
epochs = 15
batch_size = 20
learning_rate = 0.01
[certificate]
repetitions = 20
TOML
  echo "== run $name" >&2
  "$bin" run --config "$config" --runs-dir "$out/runs" >/dev/null 2>"$out/$name.log" || {
    cat "$out/$name.log" >&2
    exit 1
  }
  rm "$config" "$out/$name.log"
  runs+=("$out/runs/$name")
done

echo "== report" >&2
"$bin" report "${runs[@]}" --out "$out/results/demo"
