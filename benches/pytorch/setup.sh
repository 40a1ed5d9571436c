#!/usr/bin/env bash
# Creates benches/pytorch/.venv with the pinned baseline (CPU use of PyPI's torch wheel).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --no-deps -r "$here/requirements.txt"
"$here/.venv/bin/python" -c 'import torch; torch.set_num_threads(2); print("torch", torch.__version__, "CPU threads", torch.get_num_threads())'
