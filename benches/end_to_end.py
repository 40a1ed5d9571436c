#!/usr/bin/env python3
"""End to end, side by side: pacbayes and the PyTorch baseline, stage by stage, alternately.

    python3 benches/end_to_end.py [--schedule fcn-quick,cnn-quick,fcn-paper] [--rounds 3] [--threads 2]
                                  [--pacbayes target/release/pacbayes] [--name latest] [--pacbayes-only]
    python3 benches/end_to_end.py --schedule tiny --rounds 1     # smoke test, seconds

Each round runs, for each schedule, the three pacbayes stage commands on one run folder (`prior`,
`posterior`, `certify`) and then the three stages of benches/pytorch/end_to_end.py (the reference
code's way, with the settings pacbayes recorded in its run folder), each command under
/usr/bin/time -v: wall seconds, CPU %, maximum RSS, minor page faults and voluntary context
switches. Every round's figures, their medians and spreads (min..max over rounds) go to
benches/results/end_to_end_NAME.json, a Markdown table to benches/results/end_to_end_NAME.md, and
each command's output to benches/results/raw/end_to_end_NAME/. Only the standard library is used;
the PyTorch side runs in benches/pytorch/.venv (make it with benches/pytorch/setup.sh).
"""

import argparse
import datetime
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile

from compare import BENCHES, ROOT, VENV_PYTHON, load, machine

GNU_TIME = "/usr/bin/time"
PYTORCH_STAGES = os.path.join(BENCHES, "pytorch", "end_to_end.py")
STAGES = ("prior", "posterior", "certify")
SIDES = ("pacbayes", "pytorch")

# The presets of `pacbayes run` (crates/pacbayes-pipeline/src/run_config.rs, Preset::apply): quick
# sets 50 prior and 3 posterior epochs, paper keeps the stage defaults (70 and 100); both keep the
# default certificate (fast protocol, ⌈10⁶/n⌉ repetitions, an ensemble of 100). The PyTorch
# certificate is the reference code's: `draws` whole-network draws on S_bound.
SCHEDULES = {
    "tiny": {"dataset": "mnist[1000]", "architecture": "fcn", "prior_epochs": 2, "posterior_epochs": 1,
             "certify": ["--repetitions", "4", "--ensemble-size", "2"], "draws": 4},
    "fcn-quick": {"dataset": "mnist", "architecture": "fcn", "prior_epochs": 50, "posterior_epochs": 3,
                  "certify": [], "draws": 1000},
    "cnn-quick": {"dataset": "mnist", "architecture": "cnn", "prior_epochs": 50, "posterior_epochs": 3,
                  "certify": [], "draws": 1000},
    "fcn-paper": {"dataset": "mnist", "architecture": "fcn", "prior_epochs": 70, "posterior_epochs": 100,
                  "certify": [], "draws": 1000},
}

# What /usr/bin/time -v prints, and the key each figure is kept under.
TIME_FIELDS = {
    "User time (seconds)": "user_seconds",
    "System time (seconds)": "system_seconds",
    "Percent of CPU this job got": "cpu_percent",
    "Elapsed (wall clock) time (h:mm:ss or m:ss)": "wall_seconds",
    "Maximum resident set size (kbytes)": "max_rss_kb",
    "Minor (reclaiming a frame) page faults": "minor_page_faults",
    "Voluntary context switches": "voluntary_context_switches",
}


def clock_seconds(text):
    """'1:02:03.5' or '2:03.45' as seconds."""
    seconds = 0.0
    for part in text.split(":"):
        seconds = 60 * seconds + float(part)
    return seconds


def parse_time_report(text):
    figures = {}
    for line in text.splitlines():
        label, _, value = line.strip().rpartition(": ")
        if label in TIME_FIELDS:
            key = TIME_FIELDS[label]
            if key == "wall_seconds":
                figures[key] = clock_seconds(value)
            elif key == "cpu_percent":
                figures[key] = float(value.rstrip("%")) if value != "?%" else 0.0
            else:
                figures[key] = float(value)
    missing = set(TIME_FIELDS.values()) - set(figures)
    if missing:
        sys.exit(f"{GNU_TIME} -v did not report {sorted(missing)}:\n{text}")
    return figures


def timed_stage(side, stage, cmd, log_path, threads):
    """Runs one stage's command under /usr/bin/time -v, its output in log_path; its figures."""
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    report = log_path + ".time"
    print(f"+ [{side} {stage}]", shlex.join(cmd), flush=True)
    with open(log_path, "w") as log:
        status = subprocess.run([GNU_TIME, "-v", "-o", report, *cmd], stdout=log, stderr=subprocess.STDOUT,
                                env=env, cwd=ROOT).returncode
    with open(report) as f:
        text = f.read()
    os.remove(report)
    if status != 0:
        with open(log_path) as log:
            tail = "".join(log.readlines()[-15:])
        sys.exit(f"the {side} {stage} stage failed (exit status {status}): {shlex.join(cmd)}\n"
                 f"last lines of {os.path.relpath(log_path, ROOT)}:\n{tail}")
    return parse_time_report(text)


def pacbayes_commands(binary, schedule, run):
    return {
        "prior": [binary, "prior", "--out", run, "--dataset", schedule["dataset"],
                  "--architecture", schedule["architecture"], "--epochs", str(schedule["prior_epochs"])],
        "posterior": [binary, "posterior", "--prior", run, "--epochs", str(schedule["posterior_epochs"])],
        "certify": [binary, "certify", "--run", run, *schedule["certify"]],
    }


def recorded_settings(run):
    """The settings pacbayes resolved and recorded in its run folder, which the PyTorch side copies."""
    prior, posterior = load(os.path.join(run, "prior.json")), load(os.path.join(run, "posterior.json"))
    certificate = load(os.path.join(run, "certificate.json"))
    required = {"objective": "f-quad", "optimizer": "sgd", "mode": "local", "train_on": "all"}
    for key, value in required.items():
        if posterior["settings"][key] != value:
            sys.exit(f"the PyTorch baseline trains with {key} = {value}, pacbayes recorded {posterior['settings'][key]}")
    return {
        "split": prior["split"], "prior": prior["fit"]["settings"], "union_cost_nats": prior["union_cost_nats"],
        "posterior": posterior["settings"], "certificate": certificate["settings"],
        "pacbayes_commit": prior["provenance"]["commit"] + ("-dirty" if prior["provenance"]["dirty"] else ""),
        "bound": certificate["zero_one"]["bound"], "kl": certificate["kl"],
    }


def flags(table, *keys):
    """`--key value` for each key of a recorded settings table."""
    return [x for k in keys for x in (f"--{k.replace('_', '-')}", str(table[k]))]


def pytorch_commands(schedule, settings, run, threads):
    base = [VENV_PYTHON, PYTORCH_STAGES, "--threads", str(threads)]
    split, prior, posterior, certificate = (settings[k] for k in ("split", "prior", "posterior", "certificate"))
    return {
        "prior": [*base, "prior", "--out", run, "--architecture", schedule["architecture"],
                  "--examples", str(split["n_train"]), "--prior", str(split["n_prior"]),
                  "--validation", str(split["n_validation"]),
                  *flags(prior, "epochs", "batch_size", "learning_rate", "momentum", "dropout", "sigma0", "seed")],
        "posterior": [*base, "posterior", "--run", run,
                      *flags(posterior, "epochs", "batch_size", "learning_rate", "momentum", "delta", "p_min", "seed")],
        "certify": [*base, "certify", "--run", run, "--draws", str(schedule["draws"]),
                    "--union-cost-nats", str(settings["union_cost_nats"]),
                    *flags(certificate, "ensemble_size", "delta", "delta_mc", "p_min", "seed")],
    }


def run_side(side, commands, logs, label, threads):
    """The three stages in order; the figures of each."""
    return {
        stage: timed_stage(side, stage, commands[stage], os.path.join(logs, f"{label}-{side}-{stage}.log"), threads)
        for stage in STAGES
    }


def measure(args, schedules, logs):
    """Rounds of (pacbayes, PyTorch) for each schedule: every run's figures."""
    runs = []
    for round_ in range(1, args.rounds + 1):
        for name in schedules:
            schedule, label = SCHEDULES[name], f"{round_}-{name}"
            work = tempfile.mkdtemp(prefix=f"end_to_end-{label}-", dir=args.work_dir)
            try:
                run = os.path.join(work, "pacbayes")
                stages = run_side("pacbayes", pacbayes_commands(args.pacbayes, schedule, run), logs, label, args.threads)
                settings = recorded_settings(run)
                runs.append({"round": round_, "schedule": name, "side": "pacbayes", "stages": stages,
                             "bound": settings["bound"], "kl": settings["kl"]})
                if not args.pacbayes_only:
                    run = os.path.join(work, "pytorch")
                    commands = pytorch_commands(schedule, settings, run, args.threads)
                    stages = run_side("pytorch", commands, logs, label, args.threads)
                    certificate = load(os.path.join(run, "certificate.json"))
                    runs.append({"round": round_, "schedule": name, "side": "pytorch", "stages": stages,
                                 "bound": certificate["zero_one"]["bound"], "kl": certificate["kl"]})
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return runs, settings["pacbayes_commit"]


def with_total(stages):
    """The stages and their total: wall, CPU and faults summed, RSS the largest, CPU % of the sum."""
    total = {key: sum(s[key] for s in stages.values()) for key in TIME_FIELDS.values()}
    total["max_rss_kb"] = max(s["max_rss_kb"] for s in stages.values())
    total["cpu_percent"] = 100 * (total["user_seconds"] + total["system_seconds"]) / max(total["wall_seconds"], 1e-9)
    return {**stages, "total": total}


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(runs, schedules):
    """Per schedule, stage (and total) and side: the median, min and max of every figure; the
    ratio of the wall-second medians; the spread of the certified 0-1 risk bound."""
    summary = {}
    for name in schedules:
        rows, bounds = {stage: {} for stage in (*STAGES, "total")}, {}
        for side in SIDES:
            mine = [r for r in runs if r["schedule"] == name and r["side"] == side]
            if not mine:
                continue
            staged = [with_total(r["stages"]) for r in mine]
            for stage, row in rows.items():
                row[side] = {key: spread([s[stage][key] for s in staged]) for key in staged[0][stage]}
            bounds[side] = spread([r["bound"] for r in mine])
        for row in rows.values():
            if "pytorch" in row:
                row["ratio"] = row["pacbayes"]["wall_seconds"]["median"] / row["pytorch"]["wall_seconds"]["median"]
        summary[name] = {"stages": rows, "bound": bounds}
    return summary


def markdown(result):
    m = result["machine"]
    lines = [
        f"# pacbayes / PyTorch, end to end{' (smoke test)' if result['schedules'] == ['tiny'] else ''}",
        "",
        f"- command: `{result['command']}`",
        f"- machine: {m['cpu_model']}, nproc = {m['nproc']}; threads per command: {result['threads']}",
        f"- date: {result['date']}; rounds: {result['rounds']} (medians, min..max; pacbayes and PyTorch alternating)",
        f"- commit: {result['commit']}; the pacbayes binary records {result['pacbayes_binary_commit']}; "
        f"PyTorch {result['pytorch_version']}",
        "",
        "Wall seconds of each stage's own process under /usr/bin/time -v (startup and data loading included).",
        "Ratio < 1: pacbayes is faster. Pairs are pacbayes / PyTorch medians. Schedules and the differences",
        "between the two sides: benches/README.md, \"End to end\".",
        "",
        "| schedule | stage | pacbayes wall s | PyTorch wall s | ratio | CPU % | max RSS MB | minor page faults | voluntary ctx switches |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def wall(figures):
        w = figures["wall_seconds"]
        return f"{w['median']:.2f} ({w['min']:.2f}..{w['max']:.2f})"

    def pair(row, key, scale=1.0):
        values = [f"{row[s][key]['median'] / scale:.0f}" if s in row else "—" for s in SIDES]
        return " / ".join(values)

    for name, schedule in result["summary"].items():
        for stage, row in schedule["stages"].items():
            torch_wall = wall(row["pytorch"]) if "pytorch" in row else "—"
            ratio = f"{row['ratio']:.2f}" if "ratio" in row else "—"
            lines.append(
                f"| {name} | {stage} | {wall(row['pacbayes'])} | {torch_wall} | {ratio} | {pair(row, 'cpu_percent')} "
                f"| {pair(row, 'max_rss_kb', 1024)} | {pair(row, 'minor_page_faults')} "
                f"| {pair(row, 'voluntary_context_switches')} |"
            )
    lines += ["", "Certificates (0-1 risk bound, median over rounds): "
              + "; ".join(f"{name}: " + " / ".join(f"{s['bound'][side]['median']:.4f}" if side in s["bound"] else "—"
                                                   for side in SIDES)
                          for name, s in result["summary"].items())]
    return "\n".join(lines) + "\n"


def pytorch_version():
    out = subprocess.run([VENV_PYTHON, "-c", "import torch; print(torch.__version__)"], capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


def check_tools(args):
    if not os.path.exists(GNU_TIME):
        sys.exit(f"GNU time is missing at {GNU_TIME}: install it (apt-get install time)")
    if not os.access(args.pacbayes, os.X_OK):
        sys.exit(f"{args.pacbayes} is missing: build it (cargo build --release -p pacbayes-cli) or pass --pacbayes PATH")
    if not args.pacbayes_only and not os.path.exists(VENV_PYTHON):
        sys.exit(f"{VENV_PYTHON} is missing: run benches/pytorch/setup.sh first, or pass --pacbayes-only")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schedule", default="fcn-quick,cnn-quick,fcn-paper",
                        help=f"comma-separated, of {', '.join(SCHEDULES)} (default fcn-quick,cnn-quick,fcn-paper)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (pacbayes, PyTorch); default 3")
    parser.add_argument("--threads", type=int, default=2, help="threads of each command; default 2")
    parser.add_argument("--pacbayes", default=os.path.join(ROOT, "target", "release", "pacbayes"),
                        help="the pacbayes binary (default target/release/pacbayes)")
    parser.add_argument("--name", help="results name (default: tiny for --schedule tiny, else latest)")
    parser.add_argument("--pacbayes-only", action="store_true", help="leave out the PyTorch side")
    parser.add_argument("--work-dir", help="where the run folders are made (and removed); default the system's temp")
    args = parser.parse_args()
    schedules = args.schedule.split(",")
    unknown = [s for s in schedules if s not in SCHEDULES]
    if unknown:
        parser.error(f"--schedule: unknown {unknown}; expected some of {', '.join(SCHEDULES)}")
    if args.rounds < 1 or args.threads < 1:
        parser.error("--rounds and --threads must be at least 1")
    args.pacbayes = os.path.abspath(args.pacbayes)
    check_tools(args)
    name = args.name or ("tiny" if schedules == ["tiny"] else "latest")
    results = os.path.join(BENCHES, "results")
    logs = os.path.join(results, "raw", f"end_to_end_{name}")
    os.makedirs(logs, exist_ok=True)
    runs, binary_commit = measure(args, schedules, logs)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    result = {
        "command": shlex.join(["python3", "benches/end_to_end.py", *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "commit": commit,
        "pacbayes_binary_commit": binary_commit,
        "pytorch_version": None if args.pacbayes_only else pytorch_version(),
        "threads": args.threads,
        "rounds": args.rounds,
        "schedules": schedules,
        "schedule_settings": {s: SCHEDULES[s] for s in schedules},
        "summary": summarize(runs, schedules),
        "runs": runs,
    }
    with open(os.path.join(results, f"end_to_end_{name}.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    table = markdown(result)
    with open(os.path.join(results, f"end_to_end_{name}.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()
