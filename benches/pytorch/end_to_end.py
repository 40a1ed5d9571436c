"""PyTorch baseline of the end-to-end benchmark: the three stages of Pérez-Ortiz et al. (2021), one
process each, on one run folder (benches/end_to_end.py runs them under /usr/bin/time -v).

    .venv/bin/python end_to_end.py prior --out DIR --architecture fcn --examples 60000 \
        --prior 27000 --validation 3000 --epochs 50 [--batch-size 250 --learning-rate 0.005 ...]
    .venv/bin/python end_to_end.py posterior --run DIR --epochs 3 [--learning-rate 0.001 ...]
    .venv/bin/python end_to_end.py certify --run DIR [--draws 1000 --ensemble-size 100 ...]

prior: ERM of the deterministic net (dropout, SGD with momentum, constant learning rate, no
augmentation, as the reference code) on S_prior, the epoch of lowest error on the validation slice
kept, and its test error. posterior: f-quad with local reparameterization on all of S, starting at
the prior (σ₀ everywhere). certify: the reference code's certificate: `--draws` whole-network weight
draws, each evaluated on all of S_bound (0-1 and bounded cross-entropy), the Monte Carlo term
kl⁻¹(ê, ln(2/δ′)/m), the bound kl⁻¹(ê⁺, (KL + ln K + ln(2√n/δ))/n), and the test errors of a
network drawn per test batch, of the mean network and of an ensemble of `--ensemble-size` draws.
The split: a seeded subset of `--examples` of MNIST's training set, shuffled, its first `--prior`
examples S_prior, the next `--validation` the validation slice, the rest S_bound.
"""

import argparse
import copy
import json
import math
import os

import torch
import torch.nn.functional as F

import pbb_nets
from bench import EVAL_BATCH, load_mnist

MNIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "mnist")


def split_indices(examples, n_prior, n_validation, seed):
    generator = torch.Generator().manual_seed(seed)
    chosen = torch.randperm(60_000, generator=generator)[:examples]
    return {
        "prior": chosen[:n_prior],
        "validation": chosen[n_prior : n_prior + n_validation],
        "bound": chosen[n_prior + n_validation :],
        "all": chosen,
    }


def batches(x, y, size):
    return [(x[i : i + size], y[i : i + size]) for i in range(0, len(x), size)]


@torch.no_grad()
def error_rate(forward, x, y):
    wrong = sum(int((forward(xb).argmax(1) != yb).sum()) for xb, yb in batches(x, y, EVAL_BATCH))
    return wrong / len(y)


def kl_inverse_upper(q, c):
    """The largest p ≥ q with kl(q‖p) ≤ c, by bisection (errs upward)."""

    def kl(a, b):
        return (a * math.log(a / b) if a > 0 else 0.0) + ((1 - a) * math.log((1 - a) / (1 - b)) if a < 1 else 0.0)

    low, high = q, 1.0
    for _ in range(100):
        mid = (low + high) / 2
        if mid >= 1.0 or kl(q, mid) > c:
            high = mid
        else:
            low = mid
    return high


def sgd_epoch(loss_of, x, y, indices, batch_size, optimizer, generator):
    """One pass over x[indices] in a fresh random order; returns the mean loss."""
    order = indices[torch.randperm(len(indices), generator=generator)]
    total = 0.0
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(x[idx], y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(order)


def prior_stage(args):
    x, y = load_mnist(MNIST)
    x_test, y_test = load_mnist(MNIST, "t10k")
    split = split_indices(args.examples, args.prior, args.validation, args.seed)
    torch.manual_seed(args.seed)
    net = pbb_nets.prior_net(args.architecture, args.dropout)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.learning_rate, momentum=args.momentum)
    generator = torch.Generator().manual_seed(args.seed)
    best_error, best_state, best_epoch = math.inf, None, 0
    for epoch in range(1, args.epochs + 1):
        net.train()
        loss = sgd_epoch(
            lambda xb, yb: F.cross_entropy(net(xb), yb), x, y, split["prior"], args.batch_size, optimizer, generator
        )
        net.eval()
        error = error_rate(net, x[split["validation"]], y[split["validation"]]) if args.validation else 0.0
        if error < best_error or not args.validation:
            best_error, best_state, best_epoch = error, copy.deepcopy(net.state_dict()), epoch
        print(f"prior epoch {epoch:3d}: loss {loss:.4f}, validation error {100 * error:.2f}%", flush=True)
    net.load_state_dict(best_state)
    net.eval()
    test_error = error_rate(net, x_test, y_test)
    os.makedirs(args.out)
    torch.save({"state": net.state_dict(), "split": split, "settings": vars(args)}, os.path.join(args.out, "prior.pt"))
    print(f"prior saved in {args.out}: best epoch {best_epoch}, test error {100 * test_error:.2f}%")


def posterior_stage(args):
    prior = torch.load(os.path.join(args.run, "prior.pt"))
    settings = prior["settings"]
    x, y = load_mnist(MNIST)
    prior_net = pbb_nets.prior_net(settings["architecture"])
    prior_net.load_state_dict(prior["state"])
    net = pbb_nets.stochastic_from_prior(settings["architecture"], prior_net, settings["sigma0"])
    n_bound = len(prior["split"]["bound"])
    torch.manual_seed(args.seed)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.learning_rate, momentum=args.momentum)
    generator = torch.Generator().manual_seed(args.seed)

    def objective(xb, yb):
        logits, kl = net(xb, "local")
        risk = pbb_nets.bounded_cross_entropy(logits, yb, args.p_min)
        return pbb_nets.f_quad(risk, kl, n=n_bound, delta=args.delta)

    for epoch in range(1, args.epochs + 1):
        value = sgd_epoch(objective, x, y, prior["split"]["all"], args.batch_size, optimizer, generator)
        print(f"posterior epoch {epoch:3d}: objective {value:.5f}, KL {pbb_nets.kl(net):.3f}", flush=True)
    torch.save({"state": net.state_dict()}, os.path.join(args.run, "posterior.pt"))
    print(f"posterior saved in {args.run}")


@torch.no_grad()
def certify_stage(args):
    prior = torch.load(os.path.join(args.run, "prior.pt"))
    settings = prior["settings"]
    net = pbb_nets.stochastic_net(settings["architecture"])
    net.load_state_dict(torch.load(os.path.join(args.run, "posterior.pt"))["state"])
    x, y = load_mnist(MNIST)
    bound = prior["split"]["bound"]
    bound_batches = batches(x[bound], y[bound], EVAL_BATCH)
    torch.manual_seed(args.seed)
    errors, cross_entropy = 0, 0.0
    for _ in range(args.draws):
        pbb_nets.draw(net)
        for xb, yb in bound_batches:
            logits, _ = net(xb, "drawn")
            errors += int((logits.argmax(1) != yb).sum())
            cross_entropy += float(pbb_nets.bounded_cross_entropy(logits, yb, args.p_min)) * len(yb)
    n, kl = len(bound), pbb_nets.kl(net)
    complexity = (kl + args.union_cost_nats + math.log(2 * math.sqrt(n) / args.delta)) / n
    mc_term = math.log(2 / args.delta_mc) / args.draws
    certificate = {"n_bound": n, "kl": kl, "draws": args.draws}
    for name, total in (("zero_one", errors), ("cross_entropy", cross_entropy)):
        emp_risk = total / (args.draws * n)
        upper = kl_inverse_upper(emp_risk, mc_term)
        certificate[name] = {"emp_risk": emp_risk, "emp_risk_upper": upper, "bound": kl_inverse_upper(upper, complexity)}
    certificate["test"] = test_errors(net, *load_mnist(MNIST, "t10k"), args.ensemble_size)
    with open(os.path.join(args.run, "certificate.json"), "w") as f:
        json.dump(certificate, f, indent=2)
    z = certificate["zero_one"]
    print(f"n = {n}, KL = {kl:.2f} nats, {args.draws} draws: 0-1 emp risk {z['emp_risk']:.4f} -> risk <= {z['bound']:.4f}")
    t = certificate["test"]
    print(f"test error: stochastic {t['stochastic']:.4f}, mean network {t['mean']:.4f}, "
          f"ensemble of {t['ensemble_size']} {t['ensemble']:.4f}")


def test_errors(net, x, y, ensemble_size):
    """A network drawn per test batch, the mean network, and the mean softmax of an ensemble."""

    def drawn(xb):
        pbb_nets.draw(net)
        return net(xb, "drawn")[0]

    stochastic = error_rate(drawn, x, y)
    pbb_nets.use_mean(net)
    mean = error_rate(lambda xb: net(xb, "drawn")[0], x, y)
    probabilities = torch.zeros(len(y), 10)
    for _ in range(ensemble_size):
        pbb_nets.draw(net)
        probabilities += torch.cat([F.softmax(net(xb, "drawn")[0], 1) for xb, _ in batches(x, y, EVAL_BATCH)])
    ensemble = int((probabilities.argmax(1) != y).sum()) / len(y)
    return {"stochastic": stochastic, "mean": mean, "ensemble": ensemble, "ensemble_size": ensemble_size}


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    stages = p.add_subparsers(dest="stage", required=True)
    prior = stages.add_parser("prior", help="ERM on S_prior; creates --out")
    prior.add_argument("--out", required=True)
    prior.add_argument("--architecture", choices=["fcn", "cnn"], default="fcn")
    prior.add_argument("--examples", type=int, default=60_000, help="MNIST training examples used in all")
    prior.add_argument("--prior", type=int, required=True, help="examples in S_prior")
    prior.add_argument("--validation", type=int, required=True, help="examples in the validation slice")
    prior.add_argument("--epochs", type=int, required=True)
    prior.add_argument("--batch-size", type=int, default=250)
    prior.add_argument("--learning-rate", type=float, default=0.005)
    prior.add_argument("--momentum", type=float, default=0.95)
    prior.add_argument("--dropout", type=float, default=0.2)
    prior.add_argument("--sigma0", type=float, default=0.005, help="the prior's scale, used by the posterior")
    prior.add_argument("--seed", type=int, default=0)
    posterior = stages.add_parser("posterior", help="f-quad, local reparameterization, on all of S")
    posterior.add_argument("--run", required=True)
    posterior.add_argument("--epochs", type=int, required=True)
    posterior.add_argument("--batch-size", type=int, default=250)
    posterior.add_argument("--learning-rate", type=float, default=0.001)
    posterior.add_argument("--momentum", type=float, default=0.95)
    posterior.add_argument("--delta", type=float, default=0.025)
    posterior.add_argument("--p-min", type=float, default=1e-5)
    posterior.add_argument("--seed", type=int, default=0)
    certify = stages.add_parser("certify", help="whole-network draws on S_bound, the bound, test errors")
    certify.add_argument("--run", required=True)
    certify.add_argument("--draws", type=int, default=1000)
    certify.add_argument("--ensemble-size", type=int, default=100)
    certify.add_argument("--delta", type=float, default=0.025)
    certify.add_argument("--delta-mc", type=float, default=0.01)
    certify.add_argument("--p-min", type=float, default=1e-5)
    certify.add_argument("--union-cost-nats", type=float, default=math.log(7), help="ln K paid for σ₀ (default ln 7)")
    certify.add_argument("--seed", type=int, default=0)
    return p


def main():
    args = parser().parse_args()
    torch.set_num_threads(args.threads)
    {"prior": prior_stage, "posterior": posterior_stage, "certify": certify_stage}[args.stage](args)


if __name__ == "__main__":
    main()
