#!/usr/bin/env python3
"""Two pacbayes binaries side by side on one posterior epoch: A and B alternate for --rounds rounds,
each `pacbayes posterior --prior COPY --epochs 1` on a fresh copy of one prior folder, under
/usr/bin/time. Prints each round and the medians (wall, CPU %, minor page faults), the ratio B/A of
the wall medians, and whether the two posteriors are bit-identical (SHA-256 of
posterior.safetensors).

    python3 benches/ab.py --a OLD/pacbayes --b NEW/pacbayes --rounds 5 [--work-dir DIR]
        [--posterior-arg=--objective --posterior-arg=f-kl]

The prior is made once by A: a data-free MNIST FCN prior (σ₀ = 0.03), so that nothing is trained
before the measured command.
"""

import argparse
import hashlib
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TIME_FORMAT = "%e %P %R"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_epoch(binary: str, prior: Path, work: Path, extra: list[str]) -> tuple[float, float, int, str]:
    run = work / "run"
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(prior, run)
    timing = work / "time.txt"
    command = ["/usr/bin/time", "-f", TIME_FORMAT, "-o", str(timing), binary, "posterior", "--prior", str(run)]
    command += ["--epochs", "1", *extra]
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"{binary} posterior failed ({done.returncode}):\n{done.stderr}")
    wall, cpu, faults = timing.read_text().split()[-3:]
    return float(wall), float(cpu.rstrip("%")), int(faults), sha256(run / "posterior.safetensors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="the baseline pacbayes binary")
    parser.add_argument("--b", required=True, help="the pacbayes binary compared with it")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--posterior-arg", action="append", default=[], help="passed to both posteriors")
    args = parser.parse_args()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="pacbayes-ab-"))
    work.mkdir(parents=True, exist_ok=True)
    prior = work / "prior"
    if not prior.exists():
        make = [args.a, "prior", "--dataset", "mnist", "--architecture", "fcn", "--kind", "data-free"]
        subprocess.run(make + ["--sigma0", "0.03", "--out", str(prior)], check=True, stdout=subprocess.DEVNULL)
    rows: dict[str, list[tuple[float, float, int, str]]] = {"A": [], "B": []}
    for r in range(1, args.rounds + 1):
        for side, binary in (("A", args.a), ("B", args.b)):
            row = one_epoch(binary, prior, work, args.posterior_arg)
            rows[side].append(row)
            print(f"round {r} {side}: {row[0]:.2f} s, {row[1]:.0f}% CPU, {row[2]} minor faults, {row[3][:12]}")
    med = {s: [statistics.median(x[i] for x in rows[s]) for i in range(3)] for s in rows}
    for side in ("A", "B"):
        walls = [x[0] for x in rows[side]]
        wall, cpu, faults = med[side]
        print(f"{side}: wall {wall:.2f} s [{min(walls):.2f}, {max(walls):.2f}], {cpu:.0f}% CPU, {faults:.0f} faults")
    identical = {x[3] for x in rows["A"] + rows["B"]}
    print(f"B/A wall: {med['B'][0] / med['A'][0]:.3f}; posteriors bit-identical: {len(identical) == 1}")


if __name__ == "__main__":
    main()
