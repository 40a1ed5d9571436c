"""PyTorch baseline of the side-by-side speed benchmark (issue 8).

    .venv/bin/python bench.py --json OUT [--threads 2] [--quick]

Times, after a warm-up, the figures that crates/pacbayes-bench times on pacbayes, with the same
budgets and the same JSON keys (see benches/README.md): prior epochs, posterior epochs (f-quad,
batch 250, each forward mode), the certificate's Monte Carlo draw and fast-protocol pass, and the
GFLOP/s of a plain f32 matrix product measured in the same run.
"""

import argparse
import gzip
import json
import os
import platform
import time

import numpy as np
import torch

import pbb_nets

BATCH = 250
EVAL_BATCH = 1000
PRIOR_EPOCH = 30_000
POSTERIOR_EPOCH = 60_000
BOUND_EXAMPLES = 30_000
MATMUL_N = 1024

# Examples timed per figure (the rest of an epoch is scaled), identical in crates/pacbayes-bench.
BUDGETS = {
    "full": {"prior_fcn": 30_000, "prior_cnn": 7_500, "posterior_fcn": 60_000, "posterior_cnn": 5_000,
             "bound": 30_000, "draws": 3, "matmul_reps": 20, "warmup_steps": 2},
    "quick": {"prior_fcn": 1_000, "prior_cnn": 500, "posterior_fcn": 500, "posterior_cnn": 250,
              "bound": 2_000, "draws": 1, "matmul_reps": 3, "warmup_steps": 1},
}

# Multiply-accumulates per example of each Gaussian (or dense) layer, in order.
MACS = {
    "fcn": [784 * 600, 600 * 600, 600 * 600, 600 * 10],
    "cnn": [26 * 26 * 32 * 1 * 9, 24 * 24 * 64 * 32 * 9, 9216 * 128, 128 * 10],
}


def training_flop(architecture, paths):
    """FLOPs of one training example: per matrix path, 2·MACs forward, 2·MACs for the weight
    gradient and 2·MACs for the input gradient (not needed for the first layer, whose input is
    data). `paths` is 1 for the mean network and Mode Sample, 2 for local reparameterization (a
    mean path x·μ and a variance path x²·σ²). Elementwise work (sampling, softplus, KL, update) is
    not counted."""
    macs = MACS[architecture]
    return paths * (6 * sum(macs) - 2 * macs[0])


def forward_flop(architecture, paths):
    return paths * 2 * sum(MACS[architecture])


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(directory, part="train"):
    """MNIST's training set (part "train") or test set (part "t10k"), pixels scaled to [0, 1]."""
    images = read_idx(os.path.join(directory, f"{part}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(directory, f"{part}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.reshape(len(images), 784).astype(np.float32) / 255.0)
    return x, torch.from_numpy(labels.astype(np.int64))


def figure(seconds_timed, examples_timed, steps, epoch_examples, flop_per_example):
    """Seconds per epoch (or per pass) scaled from the examples actually timed."""
    per_example = seconds_timed / examples_timed
    return {
        "seconds": per_example * epoch_examples,
        "epoch_examples": epoch_examples,
        "examples_timed": examples_timed,
        "steps_timed": steps,
        "scaled": examples_timed != epoch_examples,
        "examples_per_second": 1.0 / per_example,
        "flop_per_example": flop_per_example,
        "gflops": flop_per_example / per_example / 1e9,
    }


def run_steps(step, x, y, order, warmup):
    batches = [order[i : i + BATCH] for i in range(0, len(order), BATCH)]
    for idx in batches[:warmup]:
        step(x[idx], y[idx])
    start = time.perf_counter()
    for idx in batches:
        step(x[idx], y[idx])
    return time.perf_counter() - start, len(batches)


def bench_prior(architecture, x, y, examples, warmup, generator):
    net = pbb_nets.prior_net(architecture)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.005, momentum=0.95)

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(xb), yb)
        loss.backward()
        opt.step()

    order = torch.randperm(len(x), generator=generator)[:examples]
    seconds, steps = run_steps(step, x, y, order, warmup)
    return figure(seconds, examples, steps, PRIOR_EPOCH, training_flop(architecture, 1))


def bench_posterior(architecture, mode, x, y, examples, warmup, generator):
    net = pbb_nets.stochastic_net(architecture)
    opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.95)

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        logits, kl = net(xb, mode)
        loss = pbb_nets.f_quad(pbb_nets.bounded_cross_entropy(logits, yb), kl)
        loss.backward()
        opt.step()

    order = torch.randperm(len(x), generator=generator)[:examples]
    seconds, steps = run_steps(step, x, y, order, warmup)
    paths = 2 if mode == "local" else 1
    return figure(seconds, examples, steps, POSTERIOR_EPOCH, training_flop(architecture, paths))


@torch.no_grad()
def count_errors(net, batches, mode):
    wrong = 0
    for xb, yb in batches:
        logits, _ = net(xb, mode)
        wrong += int((logits.argmax(1) != yb).sum())
    return wrong


@torch.no_grad()
def bench_certificate(x, y, examples, repetitions):
    """Classic protocol: seconds per weight draw evaluated on the bound examples. Fast protocol:
    one local-reparameterization forward pass over them. Batches are built before timing."""
    net = pbb_nets.stochastic_net("fcn")
    batches = [(x[i : i + EVAL_BATCH], y[i : i + EVAL_BATCH]) for i in range(0, examples, EVAL_BATCH)]
    steps = len(batches) * repetitions

    def timed(one):
        one()
        start = time.perf_counter()
        for _ in range(repetitions):
            one()
        return (time.perf_counter() - start) / repetitions

    def classic():
        pbb_nets.draw(net)
        count_errors(net, batches, "drawn")

    classic_s = timed(classic)
    fast_s = timed(lambda: count_errors(net, batches, "local"))
    draw_fig = figure(classic_s, examples, steps, BOUND_EXAMPLES, forward_flop("fcn", 1))
    fast_fig = figure(fast_s, examples, steps, BOUND_EXAMPLES, forward_flop("fcn", 2))
    return draw_fig, fast_fig


@torch.no_grad()
def bench_matmul(reps, generator):
    a = torch.randn(MATMUL_N, MATMUL_N, generator=generator)
    b = torch.randn(MATMUL_N, MATMUL_N, generator=generator)
    for _ in range(2):
        a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    seconds = (time.perf_counter() - start) / reps
    flop = 2 * MATMUL_N**3
    return {"seconds": seconds, "n": MATMUL_N, "repetitions": reps, "flop": flop, "gflops": flop / seconds / 1e9}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", required=True, help="where to write the results")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--quick", action="store_true", help="a few steps of each figure, as a smoke test")
    parser.add_argument("--mnist-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "data", "mnist"))
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads: expected at least 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    budget = BUDGETS["quick" if args.quick else "full"]
    x, y = load_mnist(args.mnist_dir)
    warmup = budget["warmup_steps"]
    started = time.perf_counter()
    figures = {"matmul_1024": bench_matmul(budget["matmul_reps"], generator)}
    for arch in ("fcn", "cnn"):
        figures[f"prior_epoch_{arch}"] = bench_prior(arch, x, y, budget[f"prior_{arch}"], warmup, generator)
        print(f"prior {arch}: {figures[f'prior_epoch_{arch}']['seconds']:.2f} s/epoch", flush=True)
    for arch in ("fcn", "cnn"):
        for mode in ("local", "sample"):
            key = f"posterior_epoch_{arch}_{mode}"
            figures[key] = bench_posterior(arch, mode, x, y, budget[f"posterior_{arch}"], warmup, generator)
            print(f"posterior {arch} {mode}: {figures[key]['seconds']:.2f} s/epoch", flush=True)
    bound = len(x) - BOUND_EXAMPLES  # the last 30,000 examples stand in for S_bound
    draw_fig, fast_fig = bench_certificate(x[bound:], y[bound:], budget["bound"], budget["draws"])
    figures["certificate_classic_draw_fcn"] = draw_fig
    figures["certificate_fast_pass_fcn"] = fast_fig
    print(f"certificate: {draw_fig['seconds']:.3f} s/draw, {fast_fig['seconds']:.3f} s/fast pass", flush=True)
    out = {
        "harness": "pytorch",
        "version": torch.__version__,
        "threads": args.threads,
        "quick": args.quick,
        "budget": budget,
        "unix_time": int(time.time()),
        "machine": platform.machine(),
        "posterior_training": "pbb_nets.py stochastic nets + torch.optim.SGD (momentum 0.95), in a loop",
        "total_seconds": time.perf_counter() - started,
        "figures": figures,
    }
    with open(args.json, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
