"""Named variants of a dataset for the dev suite (SPEC §8): a scarce minority, added noise columns.

``"car-good@min15"`` is car-good with its minority class subsampled to 15
rows; ``"sonar@noise10"`` is sonar with 10 columns of standard-normal noise
appended (as Grinsztajn et al., NeurIPS 2022, measure robustness to
uninformative features). Both draws are fixed (seed 0 of NumPy's
``default_rng``), so a variant is the same data on every machine.
"""

import re

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = ["apply_variant", "split_variant"]

_PATTERN = re.compile(r"(?P<base>.+)@(?P<kind>min|noise)(?P<size>\d+)")
#: The seed of every variant's draw.
VARIANT_SEED = 0


def split_variant(name):
    """``(base name, kind, size)`` of a variant's name, or ``(name, None, None)``."""
    match = _PATTERN.fullmatch(name)
    if match is None:
        return name, None, None
    return match["base"], match["kind"], int(match["size"])


def apply_variant(bunch, name):
    """The variant ``name`` (see :func:`split_variant`) of the dataset ``bunch``: a new Bunch."""
    _, kind, size = split_variant(name)
    if kind is None:
        return bunch
    rng = np.random.default_rng(VARIANT_SEED)
    data, target = bunch.data, np.asarray(bunch.target)
    bunch = Bunch(**bunch)
    if kind == "min":
        labels, counts = np.unique(target, return_counts=True)
        if len(labels) != 2:
            raise ValueError(f"{name}: '@min' variants are for binary datasets; "
                             f"{bunch.name} has {len(labels)} classes.")
        minority = labels[np.argmin(counts)]
        rows = np.flatnonzero(target == minority)
        if len(rows) <= size:
            raise ValueError(f"{name}: the minority class of {bunch.name} has {len(rows)} "
                             f"rows, not more than {size}.")
        dropped = rng.choice(rows, len(rows) - size, replace=False)
        keep = np.setdiff1d(np.arange(len(target)), dropped)  # in the file's order
        data = data.iloc[keep] if isinstance(data, pd.DataFrame) else data[keep]
        target = target[keep]
        note = f"minority class {minority!r} subsampled to {size} rows (seed {VARIANT_SEED})"
    else:
        noise = rng.standard_normal((len(target), size))
        columns = [f"noise_{i}" for i in range(size)]
        if isinstance(data, pd.DataFrame):
            data = pd.concat([data, pd.DataFrame(noise, columns=columns, index=data.index)],
                             axis=1)
        else:
            data = np.hstack([data, noise])
        bunch.feature_names = list(bunch.feature_names) + columns
        note = f"{size} standard-normal noise columns appended (seed {VARIANT_SEED})"
    labels, counts = np.unique(target, return_counts=True)
    bunch.update(
        data=data, target=target, name=name, n_samples=len(target), n_features=data.shape[1],
        class_counts={label.item() if hasattr(label, "item") else label: int(count)
                      for label, count in zip(labels, counts)},
        imbalance_ratio=float(counts.max() / counts.min()),
        notes=list(bunch.get("notes", [])) + [note],
    )
    bunch.DESCR = f"{name}: {note}\n{bunch.get('DESCR', '')}"
    return bunch
