"""QCLMixClassifier: QCL-MixNet as a scikit-learn classifier."""

from numbers import Integral, Real

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import TransformerTags
from sklearn.utils._param_validation import Interval, StrOptions

from ._mixup import KNNMixup
from ._torch_base import TorchClassifierBase
from .losses import FocalVarianceLoss, HybridLoss
from .nn import QCLMixNet

_EMBEDDING_DIM = 8


class QCLMixClassifier(ClassNamePrefixFeaturesOutMixin, TransformerMixin, TorchClassifierBase):
    """QCL-MixNet: quantum-inspired layers, kNN mixup and a hybrid metric loss.

    A neural classifier for class-imbalanced tabular data (arXiv 2506.13987),
    trained through skorch. The defaults are the paper's values; unlike the
    paper, the epoch kept is chosen on an internal validation split of the
    training data, never on test data. Standardise the features first (e.g.
    ``make_pipeline(StandardScaler(), QCLMixClassifier())``).

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
        Share of the training data held out (stratified when every class
        allows it) to keep the epoch with the best macro-F1; ``None`` keeps
        the last epoch. Only the validation macro-F1 is computed (the epoch
        log shows ``valid_f1``, no validation loss).
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
        The trained skorch net; ``net_.module_`` is the :class:`QCLMixNet`.
    n_iter_ : int
        Epochs run.
    best_epoch_ : int
        Epoch (1-based) whose weights were kept.

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
            self.mixup_neighbors, self.mixup_alpha, self.mixup_space, seed, self.group_size
        )
        return [("knn_mixup", mixup)]

    @property
    def _n_features_out(self):
        return _EMBEDDING_DIM

    def transform(self, X):
        """The learned 8-d embedding of X (projection-head output).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        embedding : ndarray of shape (n_samples, 8)
        """
        return self._module_outputs(X)[1].numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # transform() gives the float32 embedding whatever the input dtype.
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags
