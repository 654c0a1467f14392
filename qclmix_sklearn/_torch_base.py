"""The scikit-learn estimator base shared by QCLMixClassifier and the deep baselines.

It composes a skorch ``NeuralNet`` (``net_``, built in ``fit``) instead of
inheriting one: skorch's own classifier fails many of scikit-learn's estimator
checks, while a composed net leaves the sklearn contract entirely to us.
"""

import contextlib
import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping, EpochScoring, LRScheduler, ProgressBar
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ._callbacks import NonFiniteLossGuard, macro_f1_scorer
from ._tensor_batches import TensorBatches
from ._training_net import TrainingNet
from ._validation_split import validation_split

# Rows per forward pass in prediction: activations of a few thousand rows stay
# in the CPU caches (65536-row chunks were 3x slower per row).
_PREDICT_CHUNK = 8192
# Validation batches: eval-mode predictions and the cross-entropy valid loss
# (see TrainingNet) do not depend on the batch, so they can be large.
_VALID_BATCH = 8192


def resolve_device(device):
    """Turn ``'auto'`` into a concrete device and reject an absent GPU clearly."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but no CUDA GPU is available.")
    return device


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


def validate_training_data(estimator, X, y):
    """Validate (X, y) for ``estimator.fit``: float32 X, labels encoded as 0..C-1.

    Sets ``classes_`` (and, through ``validate_data``, ``n_features_in_`` and
    ``feature_names_in_``) on the estimator.
    """
    X, y = validate_data(estimator, X, y, dtype=[np.float32, np.float64], ensure_min_samples=2)
    X = as_float32(X)
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    estimator.classes_ = encoder.classes_
    if len(estimator.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes; "
            f"got 1 class ({estimator.classes_[0]!r})."
        )
    return X, encoder.transform(y).astype(np.int64)


def _numpy_weights(net):
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
    parameters plus the common ones below, passed on to this ``__init__``),
    extend ``_parameter_constraints`` and implement ``_build_module``. They
    may override ``_build_criterion`` and ``_extra_callbacks``. A
    module with a ``logits(x)`` method gets it called for predictions instead
    of ``forward`` (to skip heads that prediction does not need).

    Parameters
    ----------
    max_epochs : int, default=100
        Number of passes over the training data.
    batch_size : int, default=64
        Mini-batch size.
    lr : float, default=1e-3
        AdamW learning rate (the initial one when ``max_lr`` is set).
    weight_decay : float, default=1e-5
        AdamW weight decay.
    max_lr : float or None, default=1e-2
        Peak learning rate of a OneCycleLR schedule stepped after every batch;
        ``None`` keeps ``lr`` constant.
    validation_fraction : float or None, default=0.2
        Share of the training data held out (stratified when every class
        allows it) to choose the epoch with the best macro-F1; ``None`` keeps
        the last epoch. Test data is never involved.
    n_iter_no_change : int or None, default=None
        Stop when the validation macro-F1 has not improved for this many
        epochs; ``None`` trains all ``max_epochs``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the validation split and any
        augmentation. The global torch and numpy generators are left untouched.
    device : str, default='cpu'
        ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or ``'auto'``.
    n_threads : int or None, default=1
        torch intra-op CPU threads during ``fit`` and prediction (restored
        afterwards); ``None`` leaves torch's setting alone. Small networks
        train fastest on one thread; on a busy machine several threads were
        up to 100x slower.
    verbose : int, default=0
        0 is silent, 1 prints skorch's epoch log, 2 adds a progress bar.
    """

    _parameter_constraints: dict = {
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_lr": [Interval(Real, 0, None, closed="neither"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "device": [StrOptions({"cpu", "cuda", "auto"}), str],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        max_epochs=100,
        batch_size=64,
        lr=1e-3,
        weight_decay=1e-5,
        max_lr=1e-2,
        validation_fraction=0.2,
        n_iter_no_change=None,
        random_state=None,
        device="cpu",
        n_threads=1,
        verbose=0,
    ):
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_lr = max_lr
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.verbose = verbose

    # -- hooks for subclasses -------------------------------------------------
    def _build_module(self, n_features, n_classes):
        raise NotImplementedError

    def _build_criterion(self, n_classes):
        return torch.nn.CrossEntropyLoss()

    def _extra_callbacks(self, seed):
        return []

    def _train_batch_params(self, y_fit):
        """Extra keyword arguments of the training batch iterator (TensorBatches)."""
        return {}

    # -- fitting ------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; dense, finite.
        y : array-like of shape (n_samples,)
            Class labels of any type.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y_encoded = validate_training_data(self, X, y)
        device = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._fit_networks(X, y_encoded, device, seed)
        return self

    def _fit_networks(self, X, y, device, seed):
        """Train ``net_``: one network, its epoch chosen on a validation split."""
        fit_idx, valid_idx = validation_split(y, self.validation_fraction, seed)
        self.net_ = self._train_net(X, y, fit_idx, valid_idx, device, seed)
        self.n_iter_ = len(self.net_.history)
        self.best_epoch_ = best_epoch(self.net_)

    def _train_net(self, X, y, fit_idx, valid_idx, device, seed):
        """A net trained on ``X[fit_idx]``, checkpointed on ``X[valid_idx]`` (None: last epoch)."""
        valid_data = None if valid_idx is None else Dataset(X[valid_idx], y[valid_idx])
        devices = [torch.device(device)] if device.startswith("cuda") else []
        with torch_threads(self.n_threads), torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            net = self._build_net(y[fit_idx], X.shape[1], valid_data, device, seed)
            net.fit(X[fit_idx], y[fit_idx])
        return net

    def _build_net(self, y_fit, n_features, valid_data, device, seed):
        n_fit, n_classes = len(y_fit), len(self.classes_)
        # BatchNorm cannot train on a batch of one sample: drop such a last batch.
        drop_last = n_fit > self.batch_size and n_fit % self.batch_size == 1
        n_batches = n_fit // self.batch_size if drop_last else math.ceil(n_fit / self.batch_size)

        callbacks = [("nonfinite_guard", NonFiniteLossGuard())]
        if self.max_lr is not None:
            callbacks.append(("lr_schedule", LRScheduler(
                policy=torch.optim.lr_scheduler.OneCycleLR,
                max_lr=self.max_lr,
                total_steps=self.max_epochs * n_batches,
                step_every="batch",
            )))
        if valid_data is not None:
            callbacks.append(("valid_f1", EpochScoring(
                macro_f1_scorer, lower_is_better=False, name="valid_f1"
            )))
            # Restores the weights of the best validation epoch at the end;
            # with n_iter_no_change=None it never stops training early.
            patience = self.n_iter_no_change or self.max_epochs + 1
            callbacks.append(("best_epoch", EarlyStopping(
                monitor="valid_f1", lower_is_better=False, patience=patience,
                threshold=0.0, threshold_mode="abs", load_best=True, sink=self._sink,
            )))
        if self.verbose >= 2:
            callbacks.append(("progress", ProgressBar()))
        callbacks.extend(self._extra_callbacks(seed))

        generator = torch.Generator().manual_seed(seed)
        return TrainingNet(
            module=self._build_module(n_features, n_classes),
            criterion=self._build_criterion(n_classes),
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            # One kernel per parameter instead of a dozen small ops each: the
            # same AdamW update, a third of the optimizer's time here.
            optimizer__fused=True,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            # Batches indexed out of whole-data tensors instead of collated
            # sample by sample (see TensorBatches).
            iterator_train=TensorBatches,
            iterator_train__shuffle=True,
            iterator_train__drop_last=drop_last,
            iterator_train__generator=generator,
            iterator_train__device=device,
            **{f"iterator_train__{k}": v for k, v in self._train_batch_params(y_fit).items()},
            iterator_valid=TensorBatches,
            iterator_valid__device=device,
            iterator_valid__batch_size=max(self.batch_size, _VALID_BATCH),
            train_split=predefined_split(valid_data) if valid_data is not None else None,
            predict_nonlinearity=lambda logits: torch.softmax(logits, dim=-1),
            callbacks=callbacks,
            device=device,
            verbose=int(self.verbose >= 1),
        )

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
            X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        X = torch.from_numpy(as_float32(X))
        module = (self.net_ if net is None else net).module_
        module.eval()
        forward = module if method is None else getattr(module, method)
        device = next(module.parameters()).device
        chunks = []
        with torch_threads(self.n_threads), torch.inference_mode():
            for start in range(0, len(X), _PREDICT_CHUNK):
                out = forward(X[start:start + _PREDICT_CHUNK].to(device))
                out = out if isinstance(out, tuple) else (out,)
                chunks.append(tuple(o.cpu() for o in out))
        outputs = tuple(torch.cat(parts) for parts in zip(*chunks))
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
        """Class probabilities of X (of an ensemble: the mean over its members).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns follow ``classes_``.
        """
        check_is_fitted(self)
        members = getattr(self, "nets_", None)
        if not members:
            return self._proba(X)
        return np.mean([self._proba(X, net) for net in members], axis=0)

    def _proba(self, X, net=None, validated=False):
        """Softmax of the logits of ``net`` (default ``net_``) in float64, as a numpy array."""
        logits = self._logits(X, net, validated).double()
        # softmax written out: torch.softmax over a few classes is ~10x slower
        # per row than these elementwise operations on a million rows.
        proba = (logits - logits.amax(dim=1, keepdim=True)).exp_()
        return proba.div_(proba.sum(dim=1, keepdim=True)).numpy()

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
        # and skops' safe format need no torch or skorch objects.
        state = dict(super().__getstate__())  # a copy: object's is __dict__ itself
        net = state.pop("net_", None)
        nets = state.pop("nets_", None)
        if nets is not None:  # an ensemble; net_ is its first member
            state["_member_weights"] = [_numpy_weights(member) for member in nets]
        elif net is not None:
            state["_module_weights"] = _numpy_weights(net)
        return state

    def __setstate__(self, state):
        weights = state.pop("_module_weights", None)
        members = state.pop("_member_weights", None)
        super().__setstate__(state)
        if weights is not None:
            self.net_ = self._restore_net(weights)
        if members is not None:
            self.nets_ = [self._restore_net(member) for member in members]
            self.net_ = self.nets_[0]

    def _restore_net(self, weights):
        module = self._build_module(self.n_features_in_, len(self.classes_))
        module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        net = TrainingNet(module=module, criterion=torch.nn.CrossEntropyLoss, device="cpu")
        net.initialize()
        return net

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
