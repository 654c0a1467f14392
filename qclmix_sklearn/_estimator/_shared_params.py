"""The training parameters the torch estimators share, documented once.

A class docstring names a shared parameter by a line holding only
``{name}`` in its Parameters section; :func:`expand_shared_parameters`
replaces that line with the numpydoc entry written here, its default read
from the class's ``__init__`` signature, so a docstring can never state
another default than the code. Lines indented below the placeholder continue
the entry's description with what holds for that class only. A line
``{shared_parameters}`` stands for all the other shared parameters of the
signature. This is the
shape of imbalanced-learn's ``Substitution`` with ``_random_state_docstring``,
without ``str.format``: the docstrings hold braces of their own
(``{'input', 'embedding'}``).

scikit-learn's ``get_params`` reads the parameters from the explicit
``__init__`` signature, so each estimator still spells out its signature;
only the storing (:meth:`TorchClassifierBase._store_params`) and the
documentation are shared.
"""

import inspect
import re

# name -> (numpydoc type, description); the order the entries had in the
# docstrings they replace.
SHARED_PARAMETERS = {
    "max_epochs": ("int", "Number of passes over the training data."),
    "batch_size": ("int", "Mini-batch size, at least 2 (BatchNorm cannot train on one row)."),
    "lr": ("float", (
        "AdamW learning rate: with ``max_lr``, the initial rate of the one-cycle "
        "schedule (``OneCycleLR(div_factor=max_lr / lr)``), which rises to "
        "``max_lr`` over the first 30% of the steps and anneals to ``lr / 1e4``; "
        "without, the constant rate. Must not exceed ``max_lr``. The defaults "
        "``lr=4e-4, max_lr=1e-2`` of the mini-batch estimators are the schedule "
        "that every earlier version of them ran whatever ``lr`` was "
        "(``OneCycleLR``'s default ``div_factor=25`` replaced it by "
        "``max_lr / 25``), so their earlier results stay valid."
    )),
    "weight_decay": ("float", "AdamW weight decay."),
    "max_lr": ("float or None", (
        "Peak learning rate of the OneCycleLR schedule stepped after every "
        "batch; ``None`` keeps ``lr`` constant."
    )),
    "class_weight": ("dict, 'balanced' or None", (
        "Class weights multiplied into ``sample_weight`` (``'balanced'``: "
        "``n_samples / (n_classes * n_c)``; a dict: label -> weight, missing "
        "labels 1), as in scikit-learn's classifiers. Like the sample weights "
        "they weigh the loss and the validation macro-F1 that chooses the epoch."
    )),
    "categorical_features": ("'from_dtype', array-like or None", (
        "Categorical columns, one-hot encoded inside ``fit``: ``'from_dtype'`` "
        "takes a DataFrame's ``category``, ``object``, ``string`` and ``bool`` "
        "columns; or column indices, names or a boolean mask; ``None``: none. "
        "A missing category is a category of its own, a category unseen in "
        "``fit`` encodes as all zeros. Numeric columns pass through unscaled "
        "(standardise them beforehand); those with missing values (NaN) in "
        "``fit`` are filled with the training median plus a 0/1 \"was "
        "missing\" column. Complete numeric data is used exactly as given."
    )),
    "validation_fraction": ("float or None", (
        "Share of the training data held out (stratified when every class "
        "allows it) to keep the epoch with the best macro-F1 (weighted by the "
        "sample weights, if any); ``None`` keeps the last epoch. Test data is "
        "never involved."
    )),
    "n_iter_no_change": ("int or None", (
        "Early-stopping patience: stop when the validation macro-F1 has not "
        "improved for this many epochs; ``None`` (or no validation part) "
        "trains all ``max_epochs``."
    )),
    "random_state": ("int, RandomState instance or None", (
        "Seeds everything random in ``fit``: weight initialisation, dropout, "
        "shuffling, the validation split and any augmentation. The global "
        "torch and numpy generators are left untouched."
    )),
    "device": ("str", "``'cpu'``, ``'cuda'``, ``'cuda:N'`` or ``'auto'``."),
    "n_threads": ("int or None", (
        "torch intra-op CPU threads during ``fit`` and prediction (restored "
        "afterwards); ``None`` keeps torch's global setting. Small networks "
        "train fastest on one thread: extra threads mostly add "
        "synchronisation, and on a busy machine several threads were up to "
        "100x slower in fit and prediction alike. Parallelise across fits "
        "instead (``n_jobs`` of a grid search). ``torch.set_num_threads`` is "
        "process-wide, so estimators used from threads of one process should "
        "all use the same value."
    )),
    "verbose": ("int", "0 silent, 1 skorch's epoch log, 2 also a progress bar."),
}

_PLACEHOLDER = re.compile(r"^(?P<indent> *)\{(?P<name>\w+)\}[ \t]*$", re.MULTILINE)
_WIDTH = 79


def _format_default(value):
    """A default as the docstrings write it: ``4e-4`` rather than ``0.0004``."""
    if isinstance(value, float) and value and abs(value) < 0.05:
        mantissa, exponent = f"{value:.0e}".split("e")
        short = f"{mantissa}e{int(exponent)}"
        if float(short) == value:
            return short
    return repr(value)


# A word, or a ``literal`` with its spaces and the punctuation around it:
# a line break inside a literal would change what it shows.
_WORD = re.compile(r"[^\s`]*``[^`]*``\S*|\S+")


def _wrap(text, indent):
    lines, line = [], ""
    for word in _WORD.findall(text):
        if line and len(indent) + len(line) + 1 + len(word) > _WIDTH:
            lines.append(indent + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(indent + line)
    return "\n".join(lines)


def shared_parameter_entry(name, default, indent="    "):
    """The numpydoc entry of shared parameter ``name`` with ``default``."""
    kind, description = SHARED_PARAMETERS[name]
    header = f"{indent}{name} : {kind}, default={_format_default(default)}"
    return header + "\n" + _wrap(description, indent + "    ")


def expand_shared_parameters(doc, init):
    """``doc`` with each placeholder line replaced by shared parameter entries.

    ``{name}`` becomes the entry of ``name``, its default that of ``name``
    in the signature of ``init``; ``{shared_parameters}`` becomes the entries
    of all the shared parameters of ``init`` that have no placeholder of
    their own, in signature order. A placeholder of a parameter that
    ``init`` does not take, or that is not shared, is an error (it would
    document what the class does not have).
    """
    if not doc:  # python -OO strips docstrings
        return doc
    parameters = inspect.signature(init).parameters
    placed = {m["name"] for m in _PLACEHOLDER.finditer(doc)}
    rest = [name for name in parameters if name in SHARED_PARAMETERS and name not in placed]

    def entry(name, indent):
        if name not in SHARED_PARAMETERS or name not in parameters:
            raise ValueError(
                f"docstring placeholder {{{name}}}: not a shared parameter of {init.__qualname__}"
            )
        return shared_parameter_entry(name, parameters[name].default, indent)

    def expand(match):
        if match["name"] == "shared_parameters":
            return "\n".join(entry(name, match["indent"]) for name in rest)
        return entry(match["name"], match["indent"])

    return _PLACEHOLDER.sub(expand, doc)
