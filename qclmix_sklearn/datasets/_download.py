"""Network sources (only with ``download=True``) and their caches in the data home.

imbalanced-learn's Zenodo set is cached by imbalanced-learn itself under
``<data_home>/zenodo``; OpenML downloads are cached by scikit-learn under
``<data_home>/openml`` and, converted, as ``<data_home>/cache/<name>.npz``.
Reading either cache never touches the network.
"""

import numpy as np
import pandas as pd

from ._raw import RawData, SourceMissing


def zenodo(key):
    """Source for imbalanced-learn's Zenodo benchmark ``key`` (binary, labels -1/1)."""

    def source(home, download=False):
        if not download and not (home / "zenodo").is_dir():
            # imbalanced-learn would create the data home just to find it empty.
            raise SourceMissing(
                f"imbalanced-learn Zenodo cache {home / 'zenodo'} (dataset '{key}')"
            )
        from imblearn.datasets import fetch_datasets

        try:
            bunch = fetch_datasets(
                data_home=str(home), filter_data=(key,), download_if_missing=download
            )[key]
        except OSError as exc:
            if download:
                raise SourceMissing(f"imbalanced-learn's Zenodo download failed ({exc})") from exc
            raise SourceMissing(
                f"imbalanced-learn Zenodo cache {home / 'zenodo'} (dataset '{key}')"
            ) from exc
        return RawData(
            np.asarray(bunch.data, dtype=np.float64),
            (np.asarray(bunch.target) == 1).astype(np.int64),
            None,
            f"imbalanced-learn's Zenodo set, dataset '{key}' (cached in {home / 'zenodo'})",
            binary=True,
        )

    source.description = (
        f"imbalanced-learn's Zenodo benchmark set (imblearn.datasets.fetch_datasets, '{key}')"
    )
    return source


def _cache_path(home, name):
    return home / "cache" / f"{name}.npz"


def _frame_to_float(frame):
    # Nominal OpenML columns become their category codes (1-based, missing -> NaN).
    columns = {}
    for col in frame.columns:
        series = frame[col]
        if isinstance(series.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
            series
        ):
            codes = series.astype("category").cat.codes.astype(np.float64)
            series = codes.where(codes >= 0) + 1
        columns[col] = series.astype(np.float64)
    return pd.DataFrame(columns).to_numpy(dtype=np.float64)


def openml(data_id, name):
    """Source for OpenML dataset ``data_id``; the result is cached as ``cache/<name>.npz``."""

    def source(home, download=False):
        cache = _cache_path(home, name)
        if cache.is_file():
            with np.load(cache, allow_pickle=False) as stored:
                target = stored["target"]
                if target.dtype.kind == "U":
                    target = target.astype(object)
                return RawData(
                    stored["data"],
                    target,
                    stored["feature_names"].tolist(),
                    f"OpenML dataset {data_id}, cached in {cache}",
                )
        if not download:
            raise SourceMissing(f"OpenML cache {cache}")
        from sklearn.datasets import fetch_openml

        try:
            bunch = fetch_openml(
                data_id=data_id, data_home=str(home / "openml"), as_frame=True, parser="auto"
            )
        except Exception as exc:  # network, HTTP and parse errors all mean "not available"
            raise SourceMissing(f"OpenML download of dataset {data_id} failed ({exc})") from exc
        data = _frame_to_float(bunch.data)
        nominal = [
            str(c) for c in bunch.data.columns if not pd.api.types.is_numeric_dtype(bunch.data[c])
        ]
        target = pd.Series(bunch.target).astype(str)
        numeric = pd.to_numeric(target, errors="coerce")
        target = (
            numeric.to_numpy(dtype=np.int64)
            if numeric.notna().all()
            else target.to_numpy(dtype=str)
        )
        feature_names = [str(c) for c in bunch.data.columns]
        notes = []
        if nominal:
            notes.append(f"nominal OpenML columns {nominal} encoded as 1-based category codes")
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(
                cache, data=data, target=target, feature_names=np.array(feature_names, dtype=str)
            )
            where = f"downloaded and cached in {cache}"
        except OSError as exc:  # a read-only data home must not lose the download
            where = f"downloaded (not cached: {exc})"
        return RawData(
            data,
            target.astype(object) if target.dtype.kind == "U" else target,
            feature_names,
            f"OpenML dataset {data_id}, {where}",
            notes=notes,
        )

    source.description = f"OpenML dataset {data_id} (sklearn.datasets.fetch_openml)"
    return source
