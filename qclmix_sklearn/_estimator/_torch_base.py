"""The scikit-learn estimator base shared by QCLMixClassifier and the deep baselines.

It composes a skorch ``NeuralNet`` (``net_``, built in ``fit``) instead of
inheriting one: skorch's own classifier fails many of scikit-learn's estimator
checks, while a composed net leaves the sklearn contract entirely to us.
"""

import contextlib
import math
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EpochScoring, LRScheduler, ProgressBar
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ..losses import WeightedCrossEntropyLoss
from ..preprocessing._tabular_encoding import validate_fit_features, validate_predict_features
from ..training._callbacks import (BestWeightsStopping, NonFiniteLossGuard,
                                   weighted_macro_f1_scorer)
from ..training._tensor_batches import TensorBatches
from ..training._training_net import TrainingNet
from ..training._training_plan import TrainingPlan
from ._device import DEVICE_CHUNK_ROWS, DeviceOptions, resolve_device, row_chunks, to_host
from ._label_types import check_label_types, encode_class_labels
from ._plain_modules import modules_from_plain, modules_to_plain
from ._sample_weights import training_weights
from ._shared_params import expand_shared_parameters
from ._validation_split import validation_split

# Rows per forward pass in prediction: activations of a few thousand rows stay
# in the CPU caches (65536-row chunks were 3x slower per row).
_PREDICT_CHUNK = 8192
# Validation batches: eval-mode predictions and the cross-entropy valid loss
# (see TrainingNet) do not depend on the batch, so they can be large.
VALID_BATCH = 8192


class FitData(NamedTuple):
    """The validated training data of one fit, and where and from which seed it trains.

    ``X``: float32, encoded (and scaled); ``y``: labels encoded as 0..C-1;
    ``sample_weight``: each row's weight in the loss and the validation
    macro-F1, or None (every row counts the same); ``device``: the torch
    device; ``seed``: the fit's (a member's) seed; ``given_weight``: the
    ``sample_weight`` argument of ``fit`` as given (before ``class_weight``).
    """

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    device: str
    seed: int
    given_weight: object = None


@contextlib.contextmanager
def seeded(seed, device):
    """A block whose global torch generator starts at ``seed``, restored afterwards."""
    devices = [torch.device(device)] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run a block with ``n_threads`` intra-op torch threads (None: unchanged).

    ``torch.set_num_threads`` is process-wide: the previous value is restored
    on exit, but concurrent fits in threads of one process would race on it.
    """
    if n_threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def as_float32(X):
    """Cast validated, finite X to float32, refusing values that overflow it."""
    with np.errstate(over="ignore"):
        X32 = X.astype(np.float32, copy=False)
    if X32 is not X and not np.isfinite(X32).all():
        raise ValueError(
            "X has values too large for float32 (|x| > 3.4e38); rescale the features."
        )
    return X32


def validate_training_data(estimator, X, y, sample_weight=None):
    """Validate (X, y) for ``estimator.fit``: float32 X, labels encoded as 0..C-1.

    Sets ``classes_`` (and, through ``validate_data``, ``n_features_in_`` and
    ``feature_names_in_``) on the estimator, and ``feature_encoder_``: mixed-type
    X (categorical columns, missing values) is encoded (see
    :mod:`~qclmix_sklearn.preprocessing._tabular_encoding`). Returns ``(X, y_encoded,
    weights)``, the weights being ``sample_weight`` times the estimator's
    ``class_weight`` (None when every row counts the same).
    """
    X, y = validate_fit_features(estimator, X, y)
    X = as_float32(X)
    check_label_types(y)
    y = encode_class_labels(estimator, y).astype(np.int64)
    weights = training_weights(
        sample_weight, getattr(estimator, "class_weight", None), X, y, estimator.classes_
    )
    return X, y, weights


def validate_prediction_data(estimator, X):
    """Validate X for prediction: float32, encoded (and scaled) as in ``fit``."""
    X = as_float32(validate_predict_features(estimator, X))
    # Every prediction path passes here: an estimator that scaled its
    # training data in fit (QCLMixClassifier's input_scaling) scales X alike.
    scaler = getattr(estimator, "input_scaler_", None)
    return X if scaler is None else scaler.transform(X)


def softmax_float64(logits, offsets=None, dim=-1):
    """``softmax(logits + offsets)`` over the classes, dimension ``dim``, in float64.

    ``offsets`` (one per class, or None) shift the log-probabilities before
    renormalising. Prediction (the fused members' too) and the ONNX export
    compute probabilities here.
    """
    logits = logits.double()
    if offsets is not None:
        offsets = torch.as_tensor(offsets, dtype=torch.float64, device=logits.device)
        logits = logits + offsets.view(-1, *[1] * (logits.dim() - 1 - dim % logits.dim()))
    # softmax written out: torch.softmax over a few classes is ~10x slower
    # per row than these elementwise operations on a million rows.
    proba = (logits - logits.amax(dim=dim, keepdim=True)).exp_()
    return proba.div_(proba.sum(dim=dim, keepdim=True))


def _check_finite_outputs(outputs, X):
    """Refuse X whose rows overflow the network, instead of returning NaN scores.

    Finite inputs can still overflow float32 inside the network (the attention
    score of a row with |x| ~ 1e20 is ~1e40): its probabilities would be NaN
    and ``predict`` would silently return ``classes_[0]``.
    """
    finite = torch.ones(len(X), dtype=torch.bool)
    for out in outputs:
        finite &= torch.isfinite(out.reshape(len(X), -1)).all(dim=1)
    if not finite.all():
        bad = torch.nonzero(~finite).flatten()
        largest = float(X[bad].abs().max())
        raise ValueError(
            f"X has values too large for the network: {len(bad)} row(s) (first: row "
            f"{int(bad[0])}, largest |x| = {largest:.3g}) overflow float32 inside it. "
            "Standardise the features (e.g. StandardScaler) or clip their outliers."
        )


def numpy_weights(net):
    return {name: t.detach().cpu().numpy() for name, t in net.module_.state_dict().items()}


def best_epoch(net):
    """The 1-based epoch whose weights ``net`` kept: best validation macro-F1, else the last."""
    history = net.history
    if "valid_f1" not in history[-1]:
        return len(history)
    return int(np.argmax(history[:, "valid_f1"])) + 1


class TorchClassifierBase(ClassifierMixin, BaseEstimator):
    """Base of the torch classifiers: validation, training loop, prediction.

    Subclasses declare an explicit ``__init__`` (their architecture
    parameters plus those of the common ones below that apply, with the same
    defaults unless a subclass says otherwise) whose body is
    ``self._store_params(locals())``, extend ``_parameter_constraints`` and
    implement ``_build_module``. They may override ``_build_criterion``,
    ``_extra_callbacks``, ``_train_batch_params`` and ``_fit_batch_size``. A
    module with a ``logits(x)`` method gets it called for predictions instead
    of ``forward`` (to skip heads that prediction does not need).

    A subclass docstring documents a common parameter by a line ``{name}``
    alone in its Parameters section, which becomes the entry written once in
    :mod:`~qclmix_sklearn._estimator._shared_params` with the subclass's default;
    lines indented below it add what holds for that subclass only. A line
    ``{shared_parameters}`` stands for all the others of its signature.

    Parameters
    ----------
    {shared_parameters}
    """

    _parameter_constraints: dict = {
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        # BatchNorm layers cannot train on a batch of one row.
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_lr": [Interval(Real, 0, None, closed="neither"), None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "device": [DeviceOptions()],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        max_epochs=100,
        batch_size=64,
        lr=4e-4,
        weight_decay=1e-5,
        max_lr=1e-2,
        class_weight=None,
        categorical_features="from_dtype",
        validation_fraction=0.2,
        n_iter_no_change=None,
        random_state=None,
        device="cpu",
        n_threads=1,
        verbose=0,
    ):
        self._store_params(locals())

    def _store_params(self, init_locals):
        """Store every ``__init__`` argument, unchanged, under its own name.

        ``init_locals`` is ``locals()`` at the start of an ``__init__``: its
        arguments (and ``self``), so the body of every ``__init__`` is this
        one call and a new parameter needs only its place in the signature.
        """
        for name, value in init_locals.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__doc__ = expand_shared_parameters(cls.__doc__, cls.__init__)

    # -- hooks for subclasses -------------------------------------------------
    def _build_module(self, n_features, n_classes):
        raise NotImplementedError

    def _build_criterion(self, n_classes):
        # torch's cross-entropy, or its weighted mean given sample weights.
        return WeightedCrossEntropyLoss()

    def _extra_callbacks(self, seed):
        return []

    def _train_batch_params(self, y_fit):
        """Batch settings of the :class:`TrainingPlan` to override (e.g. ``draw_weight``)."""
        return {}

    def _fit_batch_size(self, n_fit):
        """Rows per training batch, out of ``n_fit`` fitting rows."""
        return self.batch_size

    # -- fitting ------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network on (X, y).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data; dense, no infinity. Categorical columns (see
            ``categorical_features``) and missing values are encoded.
        y : array-like of shape (n_samples,)
            Class labels of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (times ``class_weight``). Each loss term
            becomes a weighted mean over its rows (anchors, for the metric
            terms) and the epoch is chosen by the weighted validation
            macro-F1. They do not change which rows a batch draws: with
            class-aware sampling (QCLMixClassifier's ``class_balance``) a row
            is drawn by its class and its loss counts with its weight, so the
            two corrections multiply. Equal weights are the unweighted fit
            exactly.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._check_rates()
        X, y_encoded, weights = validate_training_data(self, X, y, sample_weight)
        device = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._fit_networks(FitData(X, y_encoded, weights, device, seed, sample_weight))
        return self

    def _check_rates(self):
        if self.max_lr is not None and self.lr > self.max_lr:
            raise ValueError(
                f"lr={self.lr} is the initial rate of the one-cycle schedule and must not "
                f"exceed its peak max_lr={self.max_lr}."
            )

    def _fit_networks(self, data):
        """Train ``net_`` on ``data`` (a :class:`FitData`): one network, its epoch chosen on a
        validation split."""
        fit_idx, valid_idx = validation_split(data.y, self.validation_fraction, data.seed)
        self.net_ = self._train_net(data, fit_idx, valid_idx)
        self.n_iter_ = len(self.net_.history)
        self.best_epoch_ = best_epoch(self.net_)

    def _train_net(self, data, fit_idx, valid_idx):
        """A net trained on the rows ``fit_idx`` of ``data``, checkpointed on ``valid_idx``
        (None: the last epoch).

        The fitting rows' weights travel with their batches to the loss, the
        validation rows' weights weigh the validation macro-F1.
        """
        with torch_threads(self.n_threads), seeded(data.seed, data.device):
            net = self._unfitted_net(data, fit_idx, valid_idx)
            net.fit(data.X[fit_idx], data.y[fit_idx])
        return net

    def _unfitted_net(self, data, fit_idx, valid_idx):
        """The net ``_train_net`` fits, with its module and criterion built (weights drawn).

        Draws from the global torch generator: call it inside ``seeded(data.seed)``.
        """
        X, y, weight = data.X, data.y, data.sample_weight
        valid_data = None if valid_idx is None else Dataset(X[valid_idx], y[valid_idx])
        weights = {}
        if weight is not None:
            weights["fit_weight"] = weight[fit_idx]
            weights["valid_weight"] = None if valid_idx is None else weight[valid_idx]
        return self._build_net(y[fit_idx], X.shape[1], valid_data, data.device, data.seed,
                               **weights)

    def _build_net(self, y_fit, n_features, valid_data, device, seed, fit_weight=None,
                   valid_weight=None):
        plan = self._training_plan(y_fit, valid_data is not None, seed, fit_weight, valid_weight)
        callbacks = [("nonfinite_guard", NonFiniteLossGuard())]
        if plan.one_cycle is not None:
            callbacks.append(("lr_schedule", LRScheduler(
                policy=torch.optim.lr_scheduler.OneCycleLR, **plan.one_cycle,
                step_every="batch",
            )))
        if plan.patience is not None:
            callbacks.append(("valid_f1", EpochScoring(
                weighted_macro_f1_scorer(plan.valid_weight), lower_is_better=False,
                name="valid_f1",
            )))
            # Restores the weights of the best validation epoch at the end.
            callbacks.append(("best_epoch", BestWeightsStopping(
                monitor="valid_f1", lower_is_better=False, patience=plan.patience,
                threshold=0.0, threshold_mode="abs", load_best=True, sink=self._sink,
            )))
        if plan.verbose >= 2:
            callbacks.append(("progress", ProgressBar()))
        callbacks.extend(plan.callbacks)
        net = TrainingNet(
            module=self._build_module(n_features, len(self.classes_)),
            criterion=self._build_criterion(len(self.classes_)),
            optimizer=torch.optim.AdamW,
            lr=plan.lr,
            optimizer__weight_decay=plan.weight_decay,
            # One kernel per parameter instead of a dozen small ops each: the
            # same AdamW update, a third of the optimizer's time here.
            optimizer__fused=True,
            max_epochs=plan.max_epochs,
            batch_size=plan.batch_size,
            # Batches indexed out of whole-data tensors instead of collated
            # sample by sample (see TensorBatches).
            iterator_train=TensorBatches,
            iterator_train__shuffle=plan.shuffle,
            iterator_train__drop_last=plan.drop_last,
            iterator_train__generator=plan.generator,
            iterator_train__device=device,
            iterator_train__row_weight=plan.row_weight,
            iterator_train__sample_weight=plan.draw_weight,
            iterator_valid=TensorBatches,
            iterator_valid__device=device,
            iterator_valid__batch_size=max(plan.batch_size, VALID_BATCH),
            train_split=predefined_split(valid_data) if valid_data is not None else None,
            predict_nonlinearity=lambda logits: torch.softmax(logits, dim=-1),
            callbacks=callbacks,
            device=device,
            verbose=int(plan.verbose >= 1),
            # A silent net's epoch log would build its table every epoch for nobody.
            **({} if plan.verbose else {"callbacks__print_log": None}),
        )
        #: What the net trains with, for the stacked training of members.
        net.training_plan_ = plan
        return net

    def _training_plan(self, y_fit, validated, seed, fit_weight, valid_weight):
        """The :class:`TrainingPlan` of a net fitting the labels ``y_fit``, checkpointed on
        validation rows when ``validated``."""
        n_fit = len(y_fit)
        batch_size = self._fit_batch_size(n_fit)
        # BatchNorm cannot train on a batch of one sample: drop such a last batch.
        drop_last = n_fit > batch_size and n_fit % batch_size == 1
        n_batches = n_fit // batch_size if drop_last else math.ceil(n_fit / batch_size)
        one_cycle = None
        if self.max_lr is not None:
            # OneCycleLR starts at max_lr / div_factor, whatever the
            # optimizer's rate: this makes that start lr.
            one_cycle = dict(max_lr=self.max_lr, div_factor=self.max_lr / self.lr,
                             total_steps=self.max_epochs * n_batches)
        # With n_iter_no_change=None training never stops early.
        patience = (self.n_iter_no_change or self.max_epochs + 1) if validated else None
        plan = TrainingPlan(
            batch_size=batch_size, n_batches=n_batches, shuffle=True, drop_last=drop_last,
            generator=torch.Generator().manual_seed(seed), draw_weight=None,
            row_weight=fit_weight, lr=self.lr, weight_decay=self.weight_decay,
            max_epochs=self.max_epochs, one_cycle=one_cycle, patience=patience,
            valid_weight=valid_weight, callbacks=tuple(self._extra_callbacks(seed)),
            verbose=self.verbose,
        )
        return plan._replace(**self._train_batch_params(y_fit))

    def _sink(self, text):
        if self.verbose:
            print(text)

    # -- prediction -----------------------------------------------------------
    def _module_outputs(self, X, method=None, net=None, validated=False):
        """Run the fitted module of ``net`` (default ``net_``), or its ``method``, on X.

        Eval mode, in large chunks. Returns the outputs concatenated on the
        host: one tensor, or a tuple of tensors when the module returns several.
        ``validated``: X is training data that ``fit`` has validated already.
        """
        if not validated:
            check_is_fitted(self)
            X = validate_prediction_data(self, X)
        X = torch.from_numpy(as_float32(X))
        module = (self.net_ if net is None else net).module_
        module.eval()
        forward = module if method is None else getattr(module, method)
        device = next(module.parameters()).device
        rows = _PREDICT_CHUNK if device.type == "cpu" else DEVICE_CHUNK_ROWS
        chunks = []
        with torch_threads(self.n_threads), torch.inference_mode():
            for _, x in row_chunks(X, rows, device):
                out = forward(x)
                chunks.append(out if isinstance(out, tuple) else (out,))
            # The outputs stay on the device until the last chunk: one copy back.
            outputs = tuple(to_host(torch.cat(parts)) for parts in zip(*chunks))
        _check_finite_outputs(outputs, X)
        return outputs if len(outputs) > 1 else outputs[0]

    def _logits(self, X, net=None, validated=False):
        if not validated:
            check_is_fitted(self)
        net = self.net_ if net is None else net
        if callable(getattr(net.module_, "logits", None)):
            return self._module_outputs(X, method="logits", net=net, validated=validated)
        out = self._module_outputs(X, net=net, validated=validated)
        return out[0] if isinstance(out, tuple) else out

    def predict_proba(self, X):
        """Class probabilities of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns follow ``classes_``.
        """
        check_is_fitted(self)
        return self._mean_proba(X)

    def _mean_proba(self, X, offsets=None):
        """The fitted networks' mean probabilities (here ``net_``'s); see :meth:`_proba`."""
        return self._proba(X, offsets=offsets)

    def _proba(self, X, net=None, validated=False, offsets=None):
        """Softmax of the logits of ``net`` (default ``net_``) in float64, as a numpy array.

        ``offsets`` (one per class) are added to the logits first, which adds
        them to the log-probabilities before renormalising.
        """
        return softmax_float64(self._logits(X, net, validated), offsets).numpy()

    def predict(self, X):
        """Predicted class labels of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        labels = self._logits(X).argmax(dim=1).numpy()
        return self.classes_[labels]

    # -- persistence -----------------------------------------------------------
    def __getstate__(self):
        # Keep the fitted networks as plain numpy weights so that pickle files
        # and skops' safe format need no torch or skorch objects; modules held
        # by parameters (pml losses) as plain copies (see _plain_modules).
        state = modules_to_plain(super().__getstate__())  # a copy: object's is __dict__
        net = state.pop("net_", None)
        if net is not None:
            state["_module_weights"] = numpy_weights(net)
        return state

    def __setstate__(self, state):
        weights = state.pop("_module_weights", None)
        super().__setstate__(modules_from_plain(state))
        if weights is not None:
            self.net_ = self._restore_net(weights)

    def _n_network_inputs(self):
        """Columns the fitted network takes: X's, or those of ``feature_encoder_``."""
        encoder = getattr(self, "feature_encoder_", None)
        return self.n_features_in_ if encoder is None else encoder.n_outputs_

    def _restore_net(self, weights):
        module = self._build_module(self._n_network_inputs(), len(self.classes_))
        module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        net = TrainingNet(module=module, criterion=torch.nn.CrossEntropyLoss, device="cpu")
        net.initialize()
        return net

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Missing values are filled (plus an indicator) inside fit.
        tags.input_tags.allow_nan = True
        return tags


# __init_subclass__ expands the docstrings of the subclasses; this one's too.
TorchClassifierBase.__doc__ = expand_shared_parameters(
    TorchClassifierBase.__doc__, TorchClassifierBase.__init__
)
