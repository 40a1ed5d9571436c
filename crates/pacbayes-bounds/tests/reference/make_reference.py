"""Reference values for pacbayes-bounds, computed with mpmath at 60 significant digits.

Run from this folder:  python3 make_reference.py
Writes kl.csv, kl_inv.csv, bounds.csv and mc.csv, read by ../reference.rs. Requires mpmath (tested
with 1.3.0).

Every input is first rounded to the nearest binary64 value (as Rust parses it) and then taken exactly,
so the references are the exact values at the very inputs the Rust code sees. Each value is written
three ways: to 40 digits, and as the nearest binary64 values below (`floor`) and above (`ceil`) it,
so that a test can check that an upper bound is never below the exact value, to the last bit.
"""

import csv
import itertools
import math

from mpmath import mp, mpf, log, sqrt, exp, expm1

mp.dps = 60


def exact(s):
    """The binary64 value nearest to the decimal string s, as an exact mpf (an mpf passes as is)."""
    return s if isinstance(s, mpf) else mpf(float(s))


def kl(q, p):
    q, p = exact(q), exact(p)
    head = mpf(0) if q == 0 else (mp.inf if p == 0 else q * log(q / p))
    tail = mpf(0) if q == 1 else (mp.inf if p == 1 else (1 - q) * log((1 - q) / (1 - p)))
    return head + tail


def bisect(f, lo, hi):
    """Root of an increasing f on [lo, hi], to the working precision (halvings until the interval
    stops shrinking, at most 4000)."""
    lo, hi = mpf(lo), mpf(hi)
    for _ in range(4000):
        if hi - lo <= abs(hi) * mpf(10) ** (-mp.dps + 5):
            break
        mid = (lo + hi) / 2
        if f(mid) >= 0:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def kl_inv_upper(q, c):
    q, c = exact(q), exact(c)
    if c == 0:
        return q
    if q == 1:
        return mpf(1)
    return bisect(lambda p: kl(q, p) - c, q, 1)


def kl_inv_lower(q, c):
    q, c = exact(q), exact(c)
    if c == 0:
        return q
    if q == 0:
        return mpf(0)
    # In log space: the lower inverse can be far below the smallest double (it is then 0 in binary64).
    # At t_lo, kl(q‖e^t) ≥ q(ln q − t) − 1 ≥ c + 1 > c.
    t_lo = log(q) - (c + 2) / q
    return exp(bisect(lambda t: c - kl(q, exp(t)), t_lo, log(q)))


def complexity(kl_, n, delta, extra=0):
    return (exact(kl_) + extra + log(2 * sqrt(mpf(n)) / exact(delta))) / n


def geometric(lo, hi, count):
    # Same arithmetic as Grid::*_default in bound.rs, done in binary64 so the grid points agree.
    import math
    ratio = math.log(hi / lo) / (count - 1)
    return [lo * math.exp(ratio * i) for i in range(count)]


def bounds(r, kl_, n, delta):
    r = exact(r)
    b = complexity(kl_, n, delta)
    out = {
        "kl": kl_inv_upper(r, b),
        "mcallester": r + sqrt(b / 2),
        "quad": (sqrt(r + b / 2) + sqrt(b / 2)) ** 2,
    }
    lam = geometric(0.01, 1.9, 32)
    bl = complexity(kl_, n, delta, log(len(lam)))
    out["lambda"] = min(r / (1 - mpf(x) / 2) + bl / (mpf(x) * (1 - mpf(x) / 2)) for x in lam)
    cs = geometric(0.01, 100.0, 32)
    bc = (exact(kl_) + log(len(cs)) - log(exact(delta))) / n
    out["catoni"] = min(-expm1(-mpf(c) * r - bc) / -expm1(-mpf(c)) for c in cs)
    return {k: min(v, mpf(1)) for k, v in out.items()}


def fmt(x):
    """40 digits, then the nearest binary64 values below and above x."""
    if x == mp.inf:
        return ["inf", "inf", "inf"]
    near = float(x)
    floor = near if mpf(near) <= x else math.nextafter(near, -math.inf)
    ceil = near if mpf(near) >= x else math.nextafter(near, math.inf)
    return [mp.nstr(x, 40, strip_zeros=False), repr(floor), repr(ceil)]


def main():
    qs = ["0", "1e-300", "1e-12", "1e-6", "0.001", "0.024", "0.1", "0.3", "0.5", "0.7", "0.97", "0.999999", "1"]
    ps = ["0", "1e-300", "1e-9", "0.001", "0.03", "0.3", "0.5", "0.9", "0.999999", "1"]
    with open("kl.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["q", "p", "kl", "kl_floor", "kl_ceil"])
        for q, p in itertools.product(qs, ps):
            w.writerow([q, p, *fmt(kl(q, p))])

    cs = ["0", "1e-15", "1e-9", "1e-4", "0.0123", "0.1", "0.5", "2", "10", "50"]
    with open("kl_inv.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["q", "c", "upper", "upper_floor", "upper_ceil", "lower", "lower_floor", "lower_ceil"])
        for q, c in itertools.product(qs, cs):
            w.writerow([q, c, *fmt(kl_inv_upper(q, c)), *fmt(kl_inv_lower(q, c))])

    cases = [
        ("0.024", "450", "30000", "0.025"),
        ("0.0431", "450", "30000", "0.025"),
        ("0.0", "3", "100", "0.05"),
        ("0.1", "20", "1000", "0.025"),
        ("0.2", "5000", "60000", "0.01"),
        ("0.4", "1000", "5000", "0.025"),
        ("0.01", "0.5", "500", "0.1"),
    ]
    with open("bounds.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emp_risk", "kl", "n", "delta", "kind", "bound", "bound_floor", "bound_ceil"])
        for r, k, n, d in cases:
            for kind, v in bounds(r, k, int(n), d).items():
                w.writerow([r, k, n, d, kind, *fmt(v)])

    with open("mc.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["estimate", "samples", "delta_mc", "upper", "upper_floor", "upper_ceil"])
        for e, m, d in [("0.024", 1000, "0.01"), ("0.024", 150000, "0.01"), ("0.0", 100, "0.05"), ("0.3", 10**6, "0.01")]:
            w.writerow([e, m, d, *fmt(kl_inv_upper(e, log(2 / exact(d)) / m))])


if __name__ == "__main__":
    main()
