"""Writes tests/data/blobs.csv: two Gaussian classes in 4 features, 500 rows, 2% flipped labels.

Deterministic (Python's own seeded generator, no third-party package): running it again rewrites the
committed file byte for byte. Usage: python3 notebooks/make_blobs.py [OUT]
"""

import random
import sys
from pathlib import Path

ROWS = 500
MEANS = {0: (-0.9, -0.6, 0.3, 0.0), 1: (0.9, 0.6, -0.3, 0.0)}
SPREAD = 1.0
FLIP = 0.02


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "tests/data/blobs.csv"
    rng = random.Random(20240601)
    lines = ["x1,x2,x3,x4,label"]
    for i in range(ROWS):
        cls = i % 2
        features = [m + SPREAD * rng.gauss(0.0, 1.0) for m in MEANS[cls]]
        label = 1 - cls if rng.random() < FLIP else cls
        lines.append(",".join(f"{x:.4f}" for x in features) + f",{label}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
