"""QCLMixClassifier: QCL-MixNet as a scikit-learn classifier."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import TransformerTags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._class_offsets import tune_class_offsets
from ._mixup import KNNMixup
from ._torch_base import TorchClassifierBase, best_epoch
from ._validation_split import validation_split
from .losses import FocalVarianceLoss, HybridLoss
from .nn import QCLMixNet

_EMBEDDING_DIM = 8

#: The paper's configuration (SPEC §1-4): ``QCLMixClassifier(**PAPER_PARAMS)``.
PAPER_PARAMS = {
    "n_folds": None,
    "decision_rule": "argmax",
    "class_balance": 0.0,
    "mixup_same_class": False,
}


class QCLMixClassifier(ClassNamePrefixFeaturesOutMixin, TransformerMixin, TorchClassifierBase):
    """QCL-MixNet: quantum-inspired layers, kNN mixup and a hybrid metric loss.

    A neural classifier for class-imbalanced tabular data (arXiv 2506.13987),
    trained through skorch. The architecture and loss defaults are the paper's
    values; four training and decision options (``n_folds``,
    ``decision_rule``, ``class_balance``, ``mixup_same_class``) default to
    what measured best on average over the paper's datasets (README, "Beyond
    the paper"). ``QCLMixClassifier(**PAPER_PARAMS)`` is the paper's
    configuration. Unlike the paper, the epoch kept is always chosen on
    held-out parts of the training data, never on test data. Standardise the
    features first (e.g. ``make_pipeline(StandardScaler(), QCLMixClassifier())``).

    Parameters
    ----------
    use_entanglement : bool, default=True
        Use the two quantum-entanglement layers ("No Quantum" ablation: False).
    use_attention : bool, default=True
        Use the feature self-attention ("No Attention" ablation: False).
    mixup : bool, default=True
        Apply kNN-guided mixup to training batches ("No Mixup" ablation: False).
    mixup_alpha : float, default=0.2
        Beta(alpha, alpha) concentration of the mixing weight (the paper gives
        no value; 0.2 is the common default).
    mixup_neighbors : int, default=5
        k of the kNN partner search; capped at the batch size minus one.
    mixup_space : {'input', 'embedding'}, default='input'
        Where mixup partners are searched: the inputs (paper's Algorithm 1)
        or the network's current embedding (paper's definition).
    loss_alpha : float, default=0.5
        Weight ``a`` of ``a * FVL + (1 - a) * (SupCon + Triplet)``.
    focal_gamma : float, default=3.0
        Focusing exponent of the focal term.
    centroid_weight : float, default=0.8
        Weight beta1 of the distance of an embedding to its class centroid.
    temperature : float, default=0.2
        SupCon temperature tau.
    triplet_margin : float, default=0.5
        Triplet margin.
    group_size : int or None, default=None
        ``None``: the paper's batch-level operations (kNN mixup partners,
        SupCon, the mined triplets) see each whole batch. An int makes them
        work within consecutive groups of this many rows of a batch (a
        smaller last group apart; the metric terms are averaged over the
        groups), so their cost grows with ``batch_size x group_size`` instead
        of ``batch_size ** 2``; with ``batch_size`` at or below it nothing
        changes. Large-batch mode for big data sets: ``batch_size=1024,
        group_size=64, lr=4e-3, max_lr=4e-2`` (rates scaled by
        sqrt(1024 / 64)); see the README's performance section.
    n_folds : int or None, default=3
        Cross-fit ensemble: the training data is cut into ``n_folds``
        stratified folds and one network is trained on all folds but one,
        its epoch chosen on the fold it did not see; predictions average the
        members' probabilities. Every training row is used for fitting by
        ``n_folds - 1`` members and held out by one, which gives out-of-fold
        predictions for ``decision_rule='tuned'``. ``None`` (paper): a single
        network and a ``validation_fraction`` split. Data too small to give
        every member 2 rows gets a single network.
    decision_rule : {'argmax', 'tuned'}, default='tuned'
        ``'argmax'`` (paper) predicts the most probable class. ``'tuned'``
        adds per-class offsets to the log-probabilities, chosen in ``fit`` to
        maximise macro-F1 on the held-out predictions (out-of-fold with
        ``n_folds``, else the validation part); for two classes this is a
        tuned decision threshold.
    class_balance : float in [0, 1], default=0.5
        Class-aware batch sampling: every epoch draws as many rows as there
        are, with replacement, a row of class ``c`` with probability
        proportional to ``n_c ** -class_balance``. 0 (paper) visits each row
        once; 1 draws every class equally often, so that minority classes
        have positive pairs for SupCon and the triplets.
    mixup_same_class : bool, default=True
        Draw mixup partners among the anchor's own class only. Every mix keeps
        the anchor's label, so a partner of another class pulls the input
        towards that class under the wrong label. False (paper): any row.
    max_epochs : int, default=100
        Number of passes over the training data.
    batch_size : int, default=64
        Mini-batch size.
    lr : float, default=1e-3
        AdamW learning rate (the initial one when ``max_lr`` is set).
    weight_decay : float, default=1e-5
        AdamW weight decay.
    max_lr : float or None, default=1e-2
        Peak learning rate of the OneCycleLR schedule stepped after every
        batch; ``None`` keeps ``lr`` constant.
    validation_fraction : float or None, default=0.2
        With ``n_folds=None``: share of the training data held out (stratified
        when every class allows it) to keep the epoch with the best macro-F1;
        ``None`` keeps the last epoch. An ensemble's members are checkpointed
        on their held-out folds instead. Only the validation macro-F1 is
        computed (the epoch log shows ``valid_f1``, no validation loss).
    n_iter_no_change : int or None, default=None
        Early-stopping patience in epochs on the validation macro-F1;
        ``None`` trains all ``max_epochs``.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, the validation split and mixup;
        global random generators are left untouched.
    device : str, default='cpu'
        ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or ``'auto'``.
    n_threads : int or None, default=1
        torch intra-op CPU threads during ``fit`` and prediction (restored
        afterwards). The network is so small that extra threads mostly add
        synchronisation: one thread trains fastest, and on a busy machine
        several threads were 100x slower in fit and prediction alike.
        Parallelise across fits instead (``n_jobs`` of a grid search).
        ``None`` keeps torch's global setting. ``torch.set_num_threads`` is
        process-wide, so estimators used from threads of one process should
        all use the same value.
    verbose : int, default=0
        0 silent, 1 skorch's epoch log, 2 also a progress bar.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X had string column names.
    net_ : skorch.NeuralNet
        The trained skorch net (the first member of an ensemble);
        ``net_.module_`` is the :class:`QCLMixNet`.
    nets_ : list of skorch.NeuralNet
        Every trained net: ``n_folds`` members, or ``[net_]``.
    n_iter_ : int or ndarray of shape (n_members,)
        Epochs run (per member of an ensemble).
    best_epoch_ : int or ndarray of shape (n_members,)
        Epoch (1-based) whose weights were kept (per member of an ensemble).
    class_offsets_ : ndarray of shape (n_classes,)
        Offsets added to the log-probabilities before the argmax in
        ``predict``; zeros with ``decision_rule='argmax'``.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from qclmix_sklearn import QCLMixClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), QCLMixClassifier(max_epochs=5, random_state=0))
    >>> model.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **TorchClassifierBase._parameter_constraints,
        "use_entanglement": ["boolean"],
        "use_attention": ["boolean"],
        "mixup": ["boolean"],
        "mixup_alpha": [Interval(Real, 0, None, closed="neither")],
        "mixup_neighbors": [Interval(Integral, 1, None, closed="left")],
        "mixup_space": [StrOptions({"input", "embedding"})],
        "loss_alpha": [Interval(Real, 0, 1, closed="both")],
        "focal_gamma": [Interval(Real, 0, None, closed="left")],
        "centroid_weight": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "triplet_margin": [Interval(Real, 0, None, closed="left")],
        "group_size": [Interval(Integral, 2, None, closed="left"), None],
        "n_folds": [Interval(Integral, 2, None, closed="left"), None],
        "decision_rule": [StrOptions({"argmax", "tuned"})],
        "class_balance": [Interval(Real, 0, 1, closed="both")],
        "mixup_same_class": ["boolean"],
    }

    def __init__(
        self,
        *,
        use_entanglement=True,
        use_attention=True,
        mixup=True,
        mixup_alpha=0.2,
        mixup_neighbors=5,
        mixup_space="input",
        loss_alpha=0.5,
        focal_gamma=3.0,
        centroid_weight=0.8,
        temperature=0.2,
        triplet_margin=0.5,
        group_size=None,
        n_folds=3,
        decision_rule="tuned",
        class_balance=0.5,
        mixup_same_class=True,
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
        super().__init__(
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            max_lr=max_lr,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            random_state=random_state,
            device=device,
            n_threads=n_threads,
            verbose=verbose,
        )
        self.use_entanglement = use_entanglement
        self.use_attention = use_attention
        self.mixup = mixup
        self.mixup_alpha = mixup_alpha
        self.mixup_neighbors = mixup_neighbors
        self.mixup_space = mixup_space
        self.loss_alpha = loss_alpha
        self.focal_gamma = focal_gamma
        self.centroid_weight = centroid_weight
        self.temperature = temperature
        self.triplet_margin = triplet_margin
        self.group_size = group_size
        self.n_folds = n_folds
        self.decision_rule = decision_rule
        self.class_balance = class_balance
        self.mixup_same_class = mixup_same_class

    def _fit_networks(self, X, y, device, seed):
        parts = self._training_parts(y, seed)
        # Member i gets seed + i: its own initialisation, shuffling and mixup draws.
        self.nets_ = [
            self._train_net(X, y, fit, held_out, device, seed + i)
            for i, (fit, held_out) in enumerate(parts)
        ]
        self.net_ = self.nets_[0]
        n_iter = [len(net.history) for net in self.nets_]
        best = [best_epoch(net) for net in self.nets_]
        single = len(self.nets_) == 1
        self.n_iter_ = n_iter[0] if single else np.array(n_iter)
        self.best_epoch_ = best[0] if single else np.array(best)
        self.class_offsets_ = np.zeros(len(self.classes_))
        held_out = [(net, rows) for net, (_, rows) in zip(self.nets_, parts) if rows is not None]
        if self.decision_rule == "tuned" and held_out:
            rows = np.concatenate([r for _, r in held_out])
            with np.errstate(divide="ignore"):
                log_proba = np.log(np.concatenate(
                    [self._proba(X[r], net, validated=True) for net, r in held_out]
                ))
            self.class_offsets_ = tune_class_offsets(log_proba, y[rows])

    def _training_parts(self, y, seed):
        """``[(fit_rows, held_out_rows)]``: the validation split, or the cross-fit folds."""
        # Every member must train on at least 2 rows (BatchNorm needs batches of 2).
        n_folds = min(self.n_folds or 0, len(y) // 2)
        if n_folds < 2:
            return [validation_split(y, self.validation_fraction, seed)]
        folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
        with warnings.catch_warnings():
            # A class smaller than n_folds is fine: it is held out by fewer folds.
            warnings.filterwarnings("ignore", message="The least populated class")
            return list(folds.split(np.zeros(len(y)), y))

    def _train_batch_params(self, y_fit):
        if not self.class_balance:
            return {}
        counts = np.bincount(y_fit, minlength=len(self.classes_)).astype(float)
        return {"sample_weight": counts[y_fit] ** -self.class_balance}

    def predict(self, X):
        """Predicted class labels of X: ``argmax(log(proba) + class_offsets_)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        with np.errstate(divide="ignore"):
            scores = np.log(self.predict_proba(X)) + self.class_offsets_
        return self.classes_[scores.argmax(axis=1)]

    def _build_module(self, n_features, n_classes):
        return QCLMixNet(
            n_features,
            n_classes,
            use_entanglement=self.use_entanglement,
            use_attention=self.use_attention,
        )

    def _build_criterion(self, n_classes):
        focal_variance = FocalVarianceLoss(
            n_classes, _EMBEDDING_DIM, gamma=self.focal_gamma, beta=self.centroid_weight
        )
        return HybridLoss.paper(
            focal_variance,
            temperature=self.temperature,
            margin=self.triplet_margin,
            alpha=self.loss_alpha,
            metric_group_size=self.group_size,
        )

    def _extra_callbacks(self, seed):
        if not self.mixup:
            return []
        mixup = KNNMixup(
            self.mixup_neighbors, self.mixup_alpha, self.mixup_space, seed, self.group_size,
            same_class=self.mixup_same_class,
        )
        return [("knn_mixup", mixup)]

    @property
    def _n_features_out(self):
        return _EMBEDDING_DIM * len(self.nets_)

    def transform(self, X):
        """The learned 8-d embedding of X (projection-head output).

        An ensemble gives its members' embeddings side by side: they live in
        different spaces, so averaging them would mean nothing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        embedding : ndarray of shape (n_samples, 8 * len(nets_))
        """
        check_is_fitted(self)
        return np.hstack([self._module_outputs(X, net=net)[1].numpy() for net in self.nets_])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # transform() gives the float32 embedding whatever the input dtype.
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags
