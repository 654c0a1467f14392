"""Rebuild original labels of a dataset that KEEL only ships as binary splits.

KEEL publishes e.g. abalone as "19 vs rest", "9 vs 18", "21 vs 8", ... Each
split file holds a subset of the same rows, labelled positive/negative for
known groups of the original classes. A row's original label must be
consistent with every split: positive in a split -> label in its positive
group; negative -> in its negative group; absent from a split that holds a
subset of rows -> in neither group. Identical rows are matched as a group
(a multiset of labels), since which copy carries which label cannot matter.
"""

from collections import Counter, defaultdict
from itertools import combinations_with_replacement

import numpy as np


def _row_keys(frame):
    return [tuple(row) for row in frame.itertuples(index=False, name=None)]


def rebuild_labels(base, splits, universe, reduce=None):
    """Label each row of ``base`` from its membership in KEEL binary splits.

    Parameters
    ----------
    base : pandas.DataFrame
        Feature columns of the file that holds every row.
    splits : list of (pandas.DataFrame, array-like of bool, set, set)
        For each split: its feature columns, whether each row is positive,
        the original labels of the positive group and of the negative group.
    universe : iterable
        All original labels that may occur.
    reduce : callable, default=None
        Maps an original label to the label wanted (e.g. ``lambda r: r == 7``).
        The reduced label must be unique for every row, even when the original
        one is not (e.g. abalone rings 5 and 6 are never split apart).

    Returns
    -------
    labels : ndarray of shape (n_rows,)
        The reduced label of each base row, in base order.
    """
    reduce = reduce if reduce is not None else (lambda label: label)
    universe = sorted(set(universe))
    counts = []  # per split: key -> Counter({True: n_pos, False: n_neg})
    for frame, positive, _, _ in splits:
        table = defaultdict(Counter)
        for key, is_pos in zip(_row_keys(frame), np.asarray(positive, dtype=bool)):
            table[key][bool(is_pos)] += 1
        counts.append(table)

    groups = defaultdict(list)
    for index, key in enumerate(_row_keys(base)):
        groups[key].append(index)

    labels = np.empty(len(base), dtype=object)
    for key, rows in groups.items():
        k = len(rows)
        observed = [(table[key][True], table[key][False]) for table in counts]
        for n_pos, n_neg in observed:
            if n_pos + n_neg > k:
                raise ValueError(f"row {key} occurs more often in a split than in the base file")

        def fits(label, observed=observed, k=k):
            for (n_pos, n_neg), (_, _, pos, neg) in zip(observed, splits):
                if label in pos and n_pos == 0 or label in neg and n_neg == 0:
                    return False
                if label not in pos and label not in neg and n_pos + n_neg == k:
                    return False
            return True

        plausible = [label for label in universe if fits(label)]
        reduced = set()
        for combo in combinations_with_replacement(plausible, k):
            ok = all(
                sum(label in pos for label in combo) == n_pos
                and sum(label in neg for label in combo) == n_neg
                for (n_pos, n_neg), (_, _, pos, neg) in zip(observed, splits)
            )
            if ok:
                reduced.add(tuple(sorted(Counter(reduce(label) for label in combo).elements())))
        if len(reduced) != 1:
            raise ValueError(
                f"the KEEL splits leave the label of row {key} "
                + ("ambiguous" if reduced else "inconsistent")
            )
        labels[rows] = list(reduced.pop())
    return labels
