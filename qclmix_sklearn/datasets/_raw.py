"""What one data source returns, and how it says it has nothing."""

from dataclasses import dataclass, field

import numpy as np


class SourceMissing(Exception):
    """A single source cannot provide the dataset; the message says what it looked for."""


@dataclass
class RawData:
    """Features and labels as one source provides them.

    ``binary`` is True when ``target`` is already the 0/1 task label
    (1 = positive/minority); otherwise it holds the original class labels.
    """

    data: np.ndarray
    target: np.ndarray
    feature_names: list | None
    source: str
    binary: bool = False
    notes: list = field(default_factory=list)
