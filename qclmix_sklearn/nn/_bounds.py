"""Bounds on the values a layer computes, from a bound on its input (for eval-mode folding).

A *bound step* maps ``t``, a bound on ``|input|``, to (a bound on ``|output|``,
a bound on any value computed in between): folded inference admits an input
only when no value of the exact computation can overflow float32.
"""

import numpy as np

__all__ = ["affine_bound_step", "largest", "row_norm", "scale_bound_step"]


def row_norm(matrix):
    """``|z @ matrix|_inf <= row_norm(matrix) * |z|_inf``: the largest absolute column sum."""
    return float(np.abs(matrix).sum(axis=0).max()) if matrix.size else 0.0


def largest(vector):
    """The largest ``|v_i|`` (0 for an empty vector)."""
    return float(np.abs(vector).max()) if vector.size else 0.0


def affine_bound_step(matrix, vector):
    """The bound step of ``z -> z @ matrix + vector``."""
    norm, offset = row_norm(matrix), largest(vector)

    def step(t):
        out = norm * t + offset
        return out, out
    return step


def scale_bound_step(factor):
    """The bound step of a map with ``|f(z)| <= factor * |z|`` (e.g. a leaky ReLU)."""
    def step(t):
        return factor * t, factor * t
    return step
