"""The RealMLP-style levers of QCLMixClassifier (issue 13): each changes only its own part."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.utils._param_validation import InvalidParameterError
from torch.nn import functional as F

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn._classifier import PAPER_PARAMS
from qclmix_sklearn.preprocessing._robust_scaling import RobustSmoothClipScaler
from qclmix_sklearn.bench._models import LEVER_VARIANTS, QCLMIX_VARIANTS, make_model
from qclmix_sklearn.losses import FocalVarianceLoss
from qclmix_sklearn.nn import PeriodicEmbedding

ALL_LEVERS = dict(input_scaling="robust_smooth_clip", numerical_embedding="periodic",
                  numerical_embedding_size=3, label_smoothing=0.1, logit_adjustment=1.0,
                  hidden_sizes=(48, 24))
QUICK = dict(max_epochs=2, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                               weights=[0.6, 0.3, 0.1], random_state=0)
    return X.astype(np.float32), y


def _data_with_outliers(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_t(2, size=(n, 6)).astype(np.float32)
    X[:3, 0] = 1e4  # outliers
    X[:, 1] = 2.0  # constant: becomes 0
    X[: n - 10, 2] = 0.0  # interquartile range 0: half the range scales it
    X[:, 3] *= 1e-3
    return X


# -- input scaling ------------------------------------------------------------
def _pytabkit_preprocessing(X_fit, X, tfms):
    torch_data = pytest.importorskip("pytabkit.models.data.data")
    models = pytest.importorskip("pytabkit.models.nn_models.models")

    info = {"x_cont": torch_data.TensorInfo(feat_shape=[X.shape[1]])}
    factory = models.PreprocessingFactory(tfms=tfms).create(info)
    layer, _ = factory.fit_transform(torch_data.DictDataset({"x_cont": torch.as_tensor(X_fit)},
                                                            info))
    return layer(torch_data.DictDataset({"x_cont": torch.as_tensor(X)}, info)).tensors[
        "x_cont"].numpy()


@pytest.mark.parametrize("seed", range(3))
def test_robust_smooth_clip_equals_pytabkit(seed):
    X_fit, X = _data_with_outliers(101 + seed, seed), _data_with_outliers(40, seed + 10) * 3
    scaled = _pytabkit_preprocessing(X_fit, X, ["median_center", "robust_scale"])
    clipped = _pytabkit_preprocessing(X_fit, X, ["median_center", "robust_scale", "smooth_clip"])
    np.testing.assert_array_equal(
        RobustSmoothClipScaler(max_abs_value=np.inf).fit(X_fit).transform(X), scaled)
    mine = RobustSmoothClipScaler().fit(X_fit).transform(X)
    assert mine.dtype == np.float32
    # torch's float32 sqrt on the CPU is not correctly rounded (numpy's is): after the
    # division the clipped values may differ in the last 2 bits, never more.
    np.testing.assert_array_max_ulp(mine, clipped, maxulp=2)


def test_robust_smooth_clip_statistics():
    X = _data_with_outliers(101, 0)
    scaler = RobustSmoothClipScaler().fit(X)
    out = scaler.transform(X)
    np.testing.assert_array_equal(scaler.center_, np.median(X, axis=0))
    assert (out[:, 1] == 0).all()  # the constant column
    column = X[:, 2] - np.median(X[:, 2])
    assert scaler.scale_[2] == pytest.approx(2 / (column.max() - column.min()))
    assert np.abs(out).max() < 3 and np.abs(out[:3, 0]).min() > 2.99  # outliers clipped smoothly


def test_robust_smooth_clip_of_values_whose_square_overflows():
    X = _data_with_outliers(101, 0)  # float32, as the estimators scale it
    X[:4, 4] = [1e20, -1e20, 3e38, -3e38]
    scaler = RobustSmoothClipScaler().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        out = scaler.transform(X)
        unclipped = RobustSmoothClipScaler(max_abs_value=np.inf).fit(X).transform(X)
    # the limit of x / sqrt(1 + (x / 3) ** 2), not 0 (or NaN without clipping)
    np.testing.assert_array_equal(out[:4, 4], np.float32([3, -3, 3, -3]))
    centred = (X[:4, 4] - scaler.center_[4]) * scaler.scale_[4]
    np.testing.assert_array_equal(unclipped[:4, 4], centred)
    assert np.abs(out).max() <= 3


def test_input_scaling_is_the_estimator_on_prescaled_data(data):
    X, y = data
    X = X * np.array([1, 100, 1e-3, 1, 5, 1], dtype=np.float32) + 7
    model = QCLMixClassifier(input_scaling="robust_smooth_clip", **QUICK).fit(X, y)
    scaler = RobustSmoothClipScaler().fit(X)
    np.testing.assert_array_equal(model.input_scaler_.scale_, scaler.scale_)
    plain = QCLMixClassifier(**QUICK).fit(scaler.transform(X), y)
    assert plain.input_scaler_ is None
    # A few rows (predicted member by member) and many (the members fused, if it applies).
    for X_test in (X[::3] + 0.5, np.tile(X, (8, 1)) * 1.1):
        scaled = scaler.transform(X_test)
        np.testing.assert_array_equal(model.predict_proba(X_test), plain.predict_proba(scaled))
        np.testing.assert_array_equal(model.predict(X_test), plain.predict(scaled))
        np.testing.assert_array_equal(model.transform(X_test), plain.transform(scaled))


# -- each option changes exactly its own part ---------------------------------
def _parts(n_features=6, n_classes=3, **params):
    est = QCLMixClassifier(**{"portfolio": None, **params})  # no mask layer
    est.classes_ = np.arange(n_classes)
    est.class_prior_ = np.array([0.6, 0.3, 0.1])
    torch.manual_seed(0)
    module = est._build_module(n_features, n_classes)
    torch.manual_seed(1)
    criterion = est._build_criterion(n_classes)
    return module, criterion


def _same_module(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _focal_settings(criterion):
    fvl = criterion.focal_variance
    offsets = None if fvl.logit_offsets is None else fvl.logit_offsets.tolist()
    return fvl.label_smoothing, offsets, fvl.centroids.tolist()


@pytest.mark.parametrize("option, value, part", [
    ("numerical_embedding", "periodic", "module"),
    ("numerical_embedding_size", 8, None),  # used with numerical_embedding only
    ("hidden_sizes", (64, 32), "module"),
    ("label_smoothing", 0.1, "criterion"),
    ("logit_adjustment", 1.0, "criterion"),
    ("input_scaling", "robust_smooth_clip", None),  # data, not module or criterion
])
def test_each_option_builds_only_its_own_part(option, value, part):
    module, criterion = _parts()
    module_on, criterion_on = _parts(**{option: value})
    assert _same_module(module, module_on) == (part != "module")
    assert (_focal_settings(criterion) == _focal_settings(criterion_on)) == (part != "criterion")


def test_the_periodic_embedding_sits_between_attention_and_the_first_dense_block():
    module, _ = _parts(numerical_embedding="periodic", numerical_embedding_size=5)
    default, _ = _parts()
    assert isinstance(module.encoder[2], PeriodicEmbedding)
    assert module.encoder[3][0].in_features == 6 * 5 and default.encoder[2][0].in_features == 6
    assert type(module.encoder[1]) is type(default.encoder[1])  # the attention, on D features
    assert module.encoder[1].attention.embed_dim == 6
    assert not any(isinstance(m, PeriodicEmbedding) for m in default.modules())


def test_hidden_sizes_sets_the_dense_widths():
    module, _ = _parts(hidden_sizes=(40, 12))
    assert module.encoder[2][0].out_features == 40 and module.encoder[4][0].out_features == 12
    assert module.encoder[3].theta.shape == (40,)  # QE(64) follows the first block
    assert module.classifier.in_features == 12 and module.projection[0].in_features == 12


# -- the periodic embedding ---------------------------------------------------
def test_periodic_embedding_equals_pytabkits_pbld():
    nn_models = pytest.importorskip("pytabkit.models.nn_models.nn")
    base = pytest.importorskip("pytabkit.models.nn_models.base")

    torch.manual_seed(0)
    embedding = PeriodicEmbedding(5)
    x = torch.randn(7, 5)
    f = embedding.lr_factor
    with torch.no_grad():
        theirs = nn_models.PLREmbeddingsLayerCosBias(
            fitter=None, weight_1=base.Variable((f * embedding.frequency)[:, None, :]),
            bias_1=base.Variable((f * embedding.phase)[:, None, :]),
            weight_2=base.Variable(f * embedding.weight),
            bias_2=base.Variable((f * embedding.bias)[:, None, :]),
            plr_act_name="linear", plr_use_densenet=True)
        torch.testing.assert_close(embedding(x), theirs.forward_cont(x), rtol=1e-6, atol=1e-6)
    assert embedding(x).shape == (7, 5 * 4)
    torch.testing.assert_close(embedding(x)[:, -5:], x, rtol=0, atol=0)  # the raw features last


def test_periodic_embedding_lr_factor_scales_adams_steps():
    # The parameters are stored divided by lr_factor: one Adam step moves the
    # effective frequencies lr_factor times as far as a plain parameter would.
    torch.manual_seed(0)
    x = torch.randn(32, 3)
    steps = []
    for factor in (1.0, 0.1):
        torch.manual_seed(1)
        embedding = PeriodicEmbedding(3, lr_factor=factor)
        before = (factor * embedding.frequency).detach().clone()
        optimizer = torch.optim.Adam(embedding.parameters(), lr=1e-3)
        embedding(x).pow(2).sum().backward()
        optimizer.step()
        steps.append((factor * embedding.frequency).detach() - before)
    torch.testing.assert_close(steps[1], 0.1 * steps[0], rtol=1e-3, atol=1e-9)


@pytest.mark.parametrize("levers, rtol", [
    (dict(numerical_embedding="periodic"), 1e-3),  # a layer of its own in the stacked forward
    (dict(label_smoothing=0.1, logit_adjustment=1.0), 1e-3),
    # On these rows the robust scaling's first epoch drifts faster: its last batch by ~2%.
    (dict(input_scaling="robust_smooth_clip"), 5e-2),
])
def test_stacked_members_follow_the_sequential_fits_with_the_levers(data, monkeypatch, levers,
                                                                    rtol):
    from qclmix_sklearn import _classifier

    calls = []
    fit_stacked = _classifier.fit_stacked
    monkeypatch.setattr(_classifier, "fit_stacked",
                        lambda *args, **kwargs: calls.append(1) or fit_stacked(*args, **kwargs))
    X, y = data
    # the paper's widths, at which the levers were measured (README, "Choosing the defaults")
    params = dict(**levers, **QUICK, hidden_sizes=(64, 32))
    sequential = QCLMixClassifier(portfolio=None, member_training="sequential", **params).fit(X, y)
    assert not calls
    stacked = QCLMixClassifier(portfolio=None, member_training="stacked", **params).fit(X, y)
    assert calls and len(stacked.nets_) == 3  # trained together
    # The first step's loss is the same computation; afterwards rounding differences (the
    # stacked and the flat AdamW kernels, the fused metric's gradient under vmap or not) grow:
    # Adam's first steps are about lr * sign(gradient), so a rounding-level gradient
    # difference of a near-zero component moves a weight by a whole step. The default
    # network's stacked and sequential probabilities differ by ~3e-3 here too.
    for mine, theirs in zip(stacked.nets_, sequential.nets_):
        first, first_theirs = (net.history[0, "batches", :, "train_loss"]
                               for net in (mine, theirs))
        np.testing.assert_allclose(first[0], first_theirs[0], rtol=1e-6)
        np.testing.assert_allclose(first, first_theirs, rtol=rtol)
    np.testing.assert_array_equal(stacked.best_epoch_, sequential.best_epoch_)
    np.testing.assert_allclose(stacked.predict_proba(X), sequential.predict_proba(X), atol=1e-2)


# -- the loss options -----------------------------------------------------------
def _batch(seed=0, n=16, n_classes=4):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(n, n_classes, generator=generator) * 3,
            torch.randint(0, n_classes, (n,), generator=generator))


@pytest.mark.parametrize("eps", [0.05, 0.3])
def test_label_smoothing_at_gamma_0_is_torchs_cross_entropy(eps):
    logits, target = _batch()
    loss = FocalVarianceLoss(4, gamma=0.0, label_smoothing=eps)
    torch.testing.assert_close(
        loss._focal(logits, target),
        F.cross_entropy(logits, target, label_smoothing=eps, reduction="none"))


def test_label_smoothing_is_the_focal_loss_of_the_soft_target():
    logits, target = _batch(1)
    eps, gamma = 0.2, 3.0
    p = F.softmax(logits.double(), dim=1)
    q = (1 - eps) * F.one_hot(target, 4).double() + eps / 4
    expected = (q * (1 - p) ** gamma * -p.log()).sum(dim=1)
    loss = FocalVarianceLoss(4, gamma=gamma, label_smoothing=eps)
    torch.testing.assert_close(loss._focal(logits, target).double(), expected, rtol=1e-5,
                               atol=1e-6)
    # Without smoothing the term is the paper's focal term.
    p_t = p[torch.arange(len(target)), target]
    torch.testing.assert_close(FocalVarianceLoss(4, gamma=gamma)._focal(logits, target).double(),
                               (1 - p_t) ** gamma * -p_t.log(), rtol=1e-5, atol=1e-6)


def test_logit_adjustment_is_cross_entropy_of_the_shifted_logits(data):
    X, y = data
    weight = np.where(y == 2, 3.0, 1.0)
    model = QCLMixClassifier(logit_adjustment=0.7, max_epochs=1, random_state=0)
    model.fit(X, y, sample_weight=weight)
    counts = np.array([(weight * (y == c)).sum() for c in range(3)])
    np.testing.assert_allclose(model.class_prior_, counts / counts.sum())
    fvl = model.net_.criterion_.focal_variance
    np.testing.assert_allclose(fvl.logit_offsets.numpy(), 0.7 * np.log(model.class_prior_),
                               rtol=1e-6)
    # The focal term at gamma=0 is Menon et al.'s logit-adjusted cross-entropy.
    logits, target = _batch(2, n_classes=3)
    loss = FocalVarianceLoss(3, gamma=0.0, logit_offsets=fvl.logit_offsets)
    shifted = logits + 0.7 * torch.log(torch.as_tensor(model.class_prior_, dtype=torch.float32))
    torch.testing.assert_close(loss._focal(logits, target),
                               F.cross_entropy(shifted, target, reduction="none"))


def test_logit_adjustment_keeps_the_plain_focal_factor():
    # (1 - p_t)^gamma of the plain logits times the log-loss of the shifted ones: the offsets
    # alone never make a row easy (at gamma=3 a factor of the shifted p_t silenced the majority).
    logits, target = _batch(5, n_classes=3)
    offsets = torch.log(torch.tensor([0.9, 0.07, 0.03]))
    gamma, eps = 3.0, 0.2
    p = F.softmax(logits.double(), dim=1)
    log_q = F.log_softmax(logits.double() + offsets.double(), dim=1)
    rows = torch.arange(len(target))
    expected = (1 - p[rows, target]) ** gamma * -log_q[rows, target]
    loss = FocalVarianceLoss(3, gamma=gamma, logit_offsets=offsets)
    torch.testing.assert_close(loss._focal(logits, target).double(), expected, rtol=1e-5,
                               atol=1e-6)
    soft = (1 - eps) * F.one_hot(target, 3).double() + eps / 3
    smoothed = FocalVarianceLoss(3, gamma=gamma, label_smoothing=eps, logit_offsets=offsets)
    torch.testing.assert_close(smoothed._focal(logits, target).double(),
                               (soft * (1 - p) ** gamma * -log_q).sum(dim=1), rtol=1e-5,
                               atol=1e-6)


def test_logit_adjustment_shifts_the_loss_not_the_predictions():
    # At gamma=0 the estimator's whole criterion with the adjustment equals the one without on
    # shifted logits.
    _, adjusted = _parts(logit_adjustment=1.0, focal_gamma=0.0)
    _, plain = _parts(focal_gamma=0.0)
    logits, target = _batch(3, n=24, n_classes=3)
    embedding = torch.randn(24, 8, generator=torch.Generator().manual_seed(4))
    shift = torch.log(torch.tensor([0.6, 0.3, 0.1]))
    torch.testing.assert_close(adjusted((logits, embedding), target),
                               plain((logits + shift, embedding), target))


def test_logit_adjustment_leaves_the_prediction_path_alone(data):
    X, y = data
    model = QCLMixClassifier(portfolio=None, logit_adjustment=1.0, n_folds=None, **QUICK).fit(X, y)
    logits = model.net_.module_.logits(torch.from_numpy(X)).detach().double()
    np.testing.assert_allclose(model.predict_proba(X), torch.softmax(logits, 1).numpy(),
                               rtol=1e-6, atol=1e-9)


# -- the defaults stay the paper's model -----------------------------------------
OFF = dict(input_scaling=None, numerical_embedding=None, numerical_embedding_size=4,
           label_smoothing=0.0, logit_adjustment=0.0)


@pytest.mark.parametrize("base", [{}, PAPER_PARAMS], ids=["defaults", "paper"])
def test_options_off_are_the_fit_without_them_bit_for_bit(data, base):
    X, y = data
    without = QCLMixClassifier(**{**QUICK, **base}).fit(X, y)
    explicit = QCLMixClassifier(**{**QUICK, **base, **OFF}).fit(X, y)
    np.testing.assert_array_equal(explicit.predict_proba(X), without.predict_proba(X))
    assert without.input_scaler_ is None
    fvl = without.net_.criterion_.focal_variance
    assert fvl.label_smoothing == 0.0 and fvl.logit_offsets is None
    assert not any(isinstance(m, PeriodicEmbedding) for m in without.net_.module_.modules())
    assert all(without.get_params()[k] == v for k, v in OFF.items())


def test_paper_params_leave_the_levers_off():
    assert all(QCLMixClassifier(**PAPER_PARAMS).get_params()[k] == v for k, v in OFF.items())


# -- validation, clone, pickle ------------------------------------------------------
@pytest.mark.parametrize("params", [
    {"hidden_sizes": (64,)}, {"hidden_sizes": (64, 0)}, {"hidden_sizes": (64.0, 32)},
    {"hidden_sizes": 64}, {"hidden_sizes": (True, 32)},
    {"input_scaling": "standard"}, {"numerical_embedding": "plr"},
    {"numerical_embedding_size": 1}, {"label_smoothing": 1.0}, {"label_smoothing": -0.1},
    {"logit_adjustment": -0.5},
])
def test_invalid_options_are_refused(data, params):
    X, y = data
    name = next(iter(params))
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        QCLMixClassifier(max_epochs=1, **params).fit(X, y)


def test_a_list_of_two_widths_is_accepted(data):
    X, y = data
    model = QCLMixClassifier(hidden_sizes=[16, 8], max_epochs=1, random_state=0).fit(X, y)
    assert model.net_.module_.classifier.in_features == 8


def test_clone_and_pickle_with_every_lever_on(data):
    X, y = data
    model = QCLMixClassifier(**ALL_LEVERS, **QUICK)
    assert clone(model).get_params() == model.get_params()
    model.fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))
    np.testing.assert_array_equal(restored.input_scaler_.center_, model.input_scaler_.center_)


# -- the benchmark variants ---------------------------------------------------------
def test_lever_variants_are_the_narrow_defaults_plus_their_levers():
    assert set(LEVER_VARIANTS) <= set(QCLMIX_VARIANTS)
    assert LEVER_VARIANTS["qclmix_realmlp_levers"] == {
        **LEVER_VARIANTS["qclmix_robust_scaling"], **LEVER_VARIANTS["qclmix_periodic_embedding"],
        **LEVER_VARIANTS["qclmix_label_smoothing"]}
    # measured before the wider layers became the default: each states the paper's widths
    narrow = QCLMixClassifier(hidden_sizes=(64, 32), portfolio=None).get_params()
    for name, levers in LEVER_VARIANTS.items():
        params = make_model(name, random_state=0)[0].get_params()
        changed = {k for k in params if params[k] != narrow[k]} - {"random_state"}
        assert changed == set(levers) - {"hidden_sizes"}, name
        assert params["hidden_sizes"] == (64, 32)
