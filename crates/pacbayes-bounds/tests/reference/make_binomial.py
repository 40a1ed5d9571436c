"""Reference values of the binomial test-set bound, computed with mpmath at 60 significant digits.

Run from this folder:  python3 make_binomial.py
Writes binomial.csv, read by ../reference.rs. Requires mpmath (tested with 1.3.0).

For k errors out of n and a confidence delta (taken as the exact binary64 value Rust parses), the
bound is the largest p with P[Bin(n, p) <= k] >= delta (one-sided Clopper-Pearson; Langford 2005,
test-set bound). The tail is summed exactly term by term at 60 digits and inverted by bisection. Each
value is written to 40 digits and as its neighbouring binary64 values below and above, like
make_reference.py.
"""

import csv

from mpmath import mp, mpf, binomial, log, exp

from make_reference import bisect, exact, fmt

mp.dps = 60


def tail(k, n, p):
    """P[Bin(n, p) <= k], exactly at the working precision."""
    return sum(binomial(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def upper(k, n, delta):
    delta = exact(delta)
    if k >= n:
        return mpf(1)
    if k == 0:
        return 1 - exp(log(delta) / n)
    # The tail decreases in p: the root of delta - tail(p) on [0, 1].
    return bisect(lambda p: delta - tail(k, n, p), 0, 1)


CASES = [
    (0, 1, "0.5"),
    (0, 10, "0.05"),
    (0, 1000, "0.01"),
    (1, 100, "0.05"),
    (5, 100, "0.05"),
    (50, 100, "0.1"),
    (99, 100, "0.05"),
    (100, 100, "0.05"),
    (10, 1000, "1e-6"),
    (3, 50, "0.9"),
    (543, 29997, "0.025"),
    (300, 10000, "0.01"),
    (1000, 60000, "0.035"),
]


def main():
    with open("binomial.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["errors", "n", "delta", "upper", "upper_floor", "upper_ceil"])
        for k, n, d in CASES:
            w.writerow([k, n, d, *fmt(upper(k, n, d))])


if __name__ == "__main__":
    main()
