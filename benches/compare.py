#!/usr/bin/env python3
"""Runs the pacbayes and PyTorch benchmarks alternately and writes the ratios pacbayes / PyTorch.

    python3 benches/compare.py [--rounds 3] [--threads 2] [--quick] [--name latest]

Each round runs `target/release/pacbayes-bench` then `benches/pytorch/bench.py` (Rust first, then
PyTorch, then Rust again, ...), both with the same thread count. The median of each figure over the
rounds goes into benches/results/NAME.json and a Markdown table into benches/results/NAME.md, with
the machine (nproc, lscpu's model name), the date and the command. The raw JSON of every run is
kept in benches/results/raw/NAME/. Only the standard library is used, so any python3 runs this;
the PyTorch side runs in benches/pytorch/.venv (make it with benches/pytorch/setup.sh).
"""

import argparse
import datetime
import json
import os
import shlex
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHES = os.path.join(ROOT, "benches")
RUST_BIN = os.path.join(ROOT, "target", "release", "pacbayes-bench")
VENV_PYTHON = os.path.join(BENCHES, "pytorch", ".venv", "bin", "python")

# Targets of issue 8, as the largest acceptable ratio pacbayes / PyTorch of seconds.
RATIO_TARGETS = {
    "posterior_epoch_fcn_local": 0.6,
    "posterior_epoch_fcn_sample": 0.6,
    "prior_epoch_fcn": 0.8,
    "prior_epoch_cnn": 0.8,
    "certificate_classic_draw_fcn": 1 / 3,
}
# A training step should reach this fraction of the matrix product's GFLOP/s of the same run.
STEP_FRACTION_TARGET = 0.5

LABELS = {
    "matmul_1024": "f32 matrix product 1024×1024 (s per product)",
    "prior_epoch_fcn": "prior epoch, FCN (s, 30,000 examples)",
    "prior_epoch_cnn": "prior epoch, CNN (s, 30,000 examples)",
    "posterior_epoch_fcn_local": "posterior epoch, FCN, local (s, 60,000 examples)",
    "posterior_epoch_fcn_sample": "posterior epoch, FCN, sample (s, 60,000 examples)",
    "posterior_epoch_cnn_local": "posterior epoch, CNN, local (s, 60,000 examples)",
    "posterior_epoch_cnn_sample": "posterior epoch, CNN, sample (s, 60,000 examples)",
    "certificate_classic_draw_fcn": "certificate, classic: one weight draw on 30,000 bound examples (s)",
    "certificate_fast_pass_fcn": "certificate, fast: one local pass on 30,000 bound examples (s)",
}


def machine():
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    return {"nproc": int(nproc), "cpu_model": model}


def run(cmd, env_threads):
    env = dict(os.environ, RAYON_NUM_THREADS=str(env_threads), OMP_NUM_THREADS=str(env_threads))
    print("+", shlex.join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)


def load(path):
    with open(path) as f:
        return json.load(f)


def median_figures(reports):
    """The median over runs of every numeric field of every figure."""
    out = {}
    for name in reports[0]["figures"]:
        fields = reports[0]["figures"][name]
        out[name] = {}
        for key, value in fields.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                out[name][key] = value
            else:
                out[name][key] = statistics.median(r["figures"][name][key] for r in reports)
    return out


def check_comparable(rust, torch_reports):
    for r, t in zip(rust, torch_reports):
        if r["budget"] != t["budget"]:
            sys.exit(f"the budgets differ: pacbayes {r['budget']} vs PyTorch {t['budget']}")
        if r["threads"] != t["threads"]:
            sys.exit(f"the thread counts differ: {r['threads']} vs {t['threads']}")
        if set(r["figures"]) != set(t["figures"]):
            sys.exit(f"the figures differ: {sorted(r['figures'])} vs {sorted(t['figures'])}")
        for name, fig in r["figures"].items():
            other = t["figures"][name]
            if set(fig) != set(other):
                sys.exit(f"{name}: the fields differ: {sorted(fig)} vs {sorted(other)}")
            for key in ("flop_per_example", "flop", "epoch_examples"):
                if key in fig and fig[key] != other.get(key):
                    sys.exit(f"{name}.{key} differs: pacbayes {fig[key]} vs PyTorch {other.get(key)}")
            # A stratified prior split of 2N examples holds about N (rounding per class): both
            # sides scale per example, so a few examples more or fewer do not bias the ratio.
            if "examples_timed" in fig and abs(fig["examples_timed"] - other["examples_timed"]) > 0.02 * other["examples_timed"]:
                sys.exit(f"{name}.examples_timed differs: pacbayes {fig['examples_timed']} vs PyTorch {other['examples_timed']}")


def summarize(rust, torch_reports):
    ours, theirs = median_figures(rust), median_figures(torch_reports)
    ceiling = {"pacbayes": ours["matmul_1024"]["gflops"], "pytorch": theirs["matmul_1024"]["gflops"]}
    rows = {}
    for name in ours:
        ratio = ours[name]["seconds"] / theirs[name]["seconds"]
        row = {
            "pacbayes_seconds": ours[name]["seconds"],
            "pytorch_seconds": theirs[name]["seconds"],
            "ratio": ratio,
            "pacbayes_gflops": ours[name]["gflops"],
            "pytorch_gflops": theirs[name]["gflops"],
            "pacbayes_fraction_of_matmul": ours[name]["gflops"] / ceiling["pacbayes"],
            "pytorch_fraction_of_matmul": theirs[name]["gflops"] / ceiling["pytorch"],
            "scaled": ours[name].get("scaled", False),
            "examples_timed": ours[name].get("examples_timed"),
        }
        if name in RATIO_TARGETS:
            row["ratio_target"] = RATIO_TARGETS[name]
            row["ratio_target_met"] = ratio <= RATIO_TARGETS[name]
        rows[name] = row
    return ours, theirs, rows


def markdown(summary):
    m = summary["machine"]
    lines = [
        f"# pacbayes / PyTorch, {'quick smoke test' if summary['quick'] else 'side by side'}",
        "",
        f"- command: `{summary['command']}`",
        f"- machine: {m['cpu_model']}, nproc = {m['nproc']}; threads per harness: {summary['threads']}",
        f"- date: {summary['date']}; rounds: {summary['rounds']} (medians; Rust and PyTorch alternating)",
        f"- versions: {summary['versions']['pacbayes']}; PyTorch {summary['versions']['pytorch']}",
        f"- posterior epochs: pacbayes {summary['posterior_training']['pacbayes']}; "
        f"PyTorch {summary['posterior_training']['pytorch']}",
        "",
        "Ratio < 1: pacbayes is faster. GFLOP/s count the dense work only (benches/README.md); % is of",
        "the same harness's matrix product in the same run. * = timed on fewer examples and scaled.",
        "",
        "| figure | pacbayes | PyTorch | ratio | target | pacbayes GFLOP/s (% matmul) | PyTorch GFLOP/s (% matmul) |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    order = [n for n in LABELS if n in summary["figures"]] + [n for n in summary["figures"] if n not in LABELS]
    for name in order:
        row = summary["figures"][name]
        target = ""
        if "ratio_target" in row:
            target = f"≤ {row['ratio_target']:.2f}: {'met' if row['ratio_target_met'] else 'not met'}"
        star = "*" if row["scaled"] else ""
        lines.append(
            f"| {LABELS.get(name, name)}{star} | {row['pacbayes_seconds']:.4g} | {row['pytorch_seconds']:.4g} "
            f"| {row['ratio']:.3f} | {target} "
            f"| {row['pacbayes_gflops']:.1f} ({100 * row['pacbayes_fraction_of_matmul']:.0f}%) "
            f"| {row['pytorch_gflops']:.1f} ({100 * row['pytorch_fraction_of_matmul']:.0f}%) |"
        )
    lines += ["", f"Training-step target: ≥ {STEP_FRACTION_TARGET:.0%} of the matrix product's GFLOP/s."]
    return "\n".join(lines) + "\n"


def measure(args, raw):
    """Runs the rounds: pacbayes, PyTorch, pacbayes, PyTorch, ..."""
    if not os.path.exists(VENV_PYTHON):
        sys.exit(f"{VENV_PYTHON} is missing: run benches/pytorch/setup.sh first")
    if not args.no_build:
        run(["cargo", "build", "--release", "-p", "pacbayes-bench"], args.threads)
    extra = ["--threads", str(args.threads)] + (["--quick"] if args.quick else [])
    rust, torch_reports, files = [], [], []
    for i in range(1, args.rounds + 1):
        rust_json = os.path.join(raw, f"pacbayes-{i}.json")
        torch_json = os.path.join(raw, f"pytorch-{i}.json")
        files += [rust_json, torch_json]
        run([RUST_BIN, "--json", rust_json, *extra], args.threads)
        rust.append(load(rust_json))
        run([VENV_PYTHON, os.path.join(BENCHES, "pytorch", "bench.py"), "--json", torch_json, *extra], args.threads)
        torch_reports.append(load(torch_json))
    return rust, torch_reports, files


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (pacbayes, PyTorch); default 3")
    parser.add_argument("--threads", type=int, default=2, help="threads of each harness; default 2")
    parser.add_argument("--quick", action="store_true", help="pass --quick to both harnesses")
    parser.add_argument("--name", help="results name (default: latest, or quick with --quick)")
    parser.add_argument("--no-build", action="store_true", help="use target/release/pacbayes-bench as it is")
    parser.add_argument(
        "--summarize-only", action="store_true", help="redo the summary from the runs already in results/raw/NAME"
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.threads < 1:
        parser.error("--rounds and --threads must be at least 1")
    name = args.name or ("quick" if args.quick else "latest")
    results = os.path.join(BENCHES, "results")
    raw = os.path.join(results, "raw", name)
    os.makedirs(raw, exist_ok=True)
    if args.summarize_only:
        rust, torch_reports, files = [], [], []
        for i in range(1, args.rounds + 1):
            files += [os.path.join(raw, f"pacbayes-{i}.json"), os.path.join(raw, f"pytorch-{i}.json")]
            rust.append(load(files[-2]))
            torch_reports.append(load(files[-1]))
    else:
        rust, torch_reports, files = measure(args, raw)
    check_comparable(rust, torch_reports)
    ours, theirs, rows = summarize(rust, torch_reports)
    command = shlex.join(["python3", "benches/compare.py", *sys.argv[1:]])
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    summary_path = os.path.join(results, f"{name}.json")
    if args.summarize_only and os.path.exists(summary_path):
        # Keep the command and date of the run that measured, not of this re-summary.
        previous = load(summary_path)
        command, date = previous.get("command", command), previous.get("date", date)
    summary = {
        "command": command,
        "date": date,
        "machine": machine(),
        "threads": args.threads,
        "rounds": args.rounds,
        "quick": args.quick,
        "versions": {"pacbayes": rust[0]["version"], "pytorch": torch_reports[0]["version"]},
        "posterior_training": {
            "pacbayes": rust[0].get("posterior_training"),
            "pytorch": torch_reports[0].get("posterior_training"),
        },
        "budget": rust[0]["budget"],
        "figures": rows,
        "pacbayes": ours,
        "pytorch": theirs,
        "runs": [os.path.relpath(f, ROOT) for f in files],
    }
    with open(summary_path, "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    table = markdown(summary)
    with open(os.path.join(results, f"{name}.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()
