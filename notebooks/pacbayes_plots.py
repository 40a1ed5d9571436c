"""Helpers shared by the notebooks: where their inputs are, reading them, labels, and saving figures.

Inputs are found through environment variables, each with a default inside the repository:

- ``PACBAYES_RESULTS``: a ``table.parquet`` file, or a folder searched recursively for them
  (``pacbayes report`` and the experiment binaries write them, e.g. ``experiments/results/NAME/``).
- ``PACBAYES_RUNS``: a folder searched recursively for run folders (those holding ``metrics.parquet``).
- ``PACBAYES_FIGURES``: when set, every figure is also saved there as ``NAME.png``.

Relative paths in these variables are taken relative to the repository.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import polars as pl

REPO = Path(__file__).resolve().parent.parent

#: The columns of a tightness table's data files (crates/pacbayes-eval/src/columns.rs), in order; every
#: value at full precision (``kl`` in nats beside ``kl_over_n``; ``commit`` names the code of the row).
TABLE_COLUMNS = [
    "run",
    "dataset",
    "architecture",
    "prior",
    "objective",
    "prior_fraction",
    "n_bound",
    "kl",
    "kl_over_n",
    "stochastic_test_error",
    "mean_test_error",
    "emp_risk",
    "bound",
    "gap",
    "prior_kind",
    "emp_risk_upper",
    "cross_entropy_bound",
    "ensemble_test_error",
    "n_test",
    "delta",
    "delta_mc",
    "mc_samples",
    "union_cost_nats",
    "p_min",
    "commit",
]

#: The columns of metrics.parquet (crates/pacbayes-posterior/src/metrics.rs).
METRICS_COLUMNS = ["epoch", "objective", "kl", "risk", "train_error", "learning_rate"]


def input_path(variable: str, default: str) -> Path:
    """The path in environment variable ``variable``, else ``default``; a relative path is taken
    relative to the repository (a notebook's working folder is the notebook's own)."""
    path = REPO / (os.environ.get(variable) or default)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: set {variable} to a folder or file made by pacbayes "
            f"(default: {default} in the repository)"
        )
    return path.resolve()


def style() -> None:
    """Matplotlib settings for figures that go into a paper."""
    plt.rcParams.update(
        {
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 110,
            "savefig.dpi": 200,
            "font.size": 10,
            "axes.titlesize": 10,
            "axes.labelsize": 10,
            "legend.fontsize": 8,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def _check_columns(frame: pl.DataFrame, expected: list[str], path: Path) -> None:
    missing = [c for c in expected if c not in frame.columns]
    if "commit" in missing and "commit" in expected:
        raise ValueError(
            f"{path} was written before the tables held full precision (it has no commit column): "
            "regenerate it with the current pacbayes (pacbayes report, or the experiment binary)"
        )
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}; it has {frame.columns}")


def read_tables(root: Path) -> pl.DataFrame:
    """Every tightness table at or under ``root``, stacked, with a ``source`` column (the folder of
    each table, relative to ``root``) and the column ``dataset_name``.

    A run folder holds the one-row table of its own run, and a results folder the table of several
    runs: a row found twice (same values in every table column) is kept once.
    """
    files = [root] if root.is_file() else sorted(root.rglob("table.parquet"))
    if not files:
        raise FileNotFoundError(f"no table.parquet at or under {root}")
    frames = []
    for file in files:
        frame = pl.read_parquet(file)
        _check_columns(frame, TABLE_COLUMNS, file)
        source = file.parent.relative_to(root).as_posix() if root.is_dir() else file.parent.name
        frames.append(frame.select(TABLE_COLUMNS).with_columns(pl.lit(source or ".").alias("source")))
    table = pl.concat(frames, how="vertical_relaxed").unique(subset=TABLE_COLUMNS, keep="first", maintain_order=True)
    return table.with_columns(
        pl.col("dataset").map_elements(dataset_name, return_dtype=pl.String).alias("dataset_name"),
    )


def dataset_name(dataset: str) -> str:
    """A short name for a ``--dataset`` value: ``csv:/a/b/blobs.csv`` → ``blobs``, ``mnist`` → ``mnist``."""
    name = dataset.split(":", 1)[-1].rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".csv", ".parquet"):
        name = name.removesuffix(suffix)
    return name


def find_runs(root: Path) -> list[Path]:
    """The run folders at or under ``root`` (folders holding ``metrics.parquet``), sorted by path."""
    runs = sorted(p.parent for p in root.rglob("metrics.parquet") if not p.parent.name.startswith("."))
    if not runs:
        raise FileNotFoundError(f"no run folder (with metrics.parquet) at or under {root}")
    return runs


def read_metrics(run: Path) -> pl.DataFrame:
    """The per-epoch posterior metrics of a run folder."""
    frame = pl.read_parquet(run / "metrics.parquet")
    _check_columns(frame, METRICS_COLUMNS, run / "metrics.parquet")
    if frame.height == 0:
        raise ValueError(f"{run / 'metrics.parquet'} has no epoch")
    return frame


def run_objective(run: Path) -> str:
    """The training objective of a run folder's posterior (from its ``posterior.json``)."""
    path = run / "posterior.json"
    return json.loads(path.read_text()).get("objective", "unknown") if path.exists() else "unknown"


def save(fig: plt.Figure, name: str) -> Path | None:
    """Saves ``fig`` as ``$PACBAYES_FIGURES/NAME.png`` when that variable is set; returns the path."""
    folder = os.environ.get("PACBAYES_FIGURES")
    if not folder:
        return None
    path = REPO / folder / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    print(f"saved {path}")
    return path
