"""The ``device`` parameter: its constraint and its resolution to a torch device."""

import re

import torch
from sklearn.utils._param_validation import StrOptions


class DeviceOptions(StrOptions):
    """Parameter constraint: ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or ``'auto'``.

    A ``StrOptions`` because scikit-learn's parameter validation accepts only
    its own constraint classes; it adds the ``'cuda:N'`` pattern, so that a
    typo such as ``'CPU'`` or an unsupported ``'tpu'`` is refused before
    ``fit`` starts instead of failing inside torch.
    """

    def __init__(self):
        super().__init__({"cpu", "cuda", "auto"})

    def is_satisfied_by(self, val):
        return isinstance(val, str) and (
            val in self.options or re.fullmatch(r"cuda:\d+", val) is not None
        )

    def __str__(self):
        return "one of 'cpu', 'cuda', 'cuda:N' (N a GPU index) or 'auto'"


def resolve_device(device):
    """Turn ``'auto'`` into a concrete device and reject an absent GPU clearly."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but no CUDA GPU is available.")
    index = device.partition(":")[2]
    if index and int(index) >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r}: there are only {torch.cuda.device_count()} CUDA GPU(s)."
        )
    return device


# Rows per chunk of a prediction on a GPU: a pass over half a million rows
# costs the device about what one over a few thousand does, and each chunk is
# one host-to-device copy.
DEVICE_CHUNK_ROWS = 1 << 19


def row_chunks(X, rows, device):
    """``(start, chunk)`` of the rows of the host tensor ``X``, each chunk on ``device``.

    On the CPU the chunks are views of ``X``. On a GPU every chunk goes
    through one of two pinned staging buffers with a non-blocking copy, so
    that the host fills one buffer while the device reads the other and the
    host never waits for the device's computations on earlier chunks.
    """
    device = torch.device(device)
    if device.type == "cpu":
        for start in range(0, len(X), rows):
            yield start, X[start:start + rows]
        return
    rows = min(rows, len(X))
    staging = [torch.empty((rows,) + X.shape[1:], dtype=X.dtype, pin_memory=True)
               for _ in range(2)]
    copied = [None, None]
    for i, start in enumerate(range(0, len(X), rows)):
        part = X[start:start + rows]
        buffer = staging[i % 2][:len(part)]
        if copied[i % 2] is not None:
            copied[i % 2].synchronize()  # the device has read this buffer
        buffer.copy_(part)
        chunk = torch.empty(buffer.shape, dtype=buffer.dtype, device=device)
        chunk.copy_(buffer, non_blocking=True)
        copied[i % 2] = torch.cuda.Event()
        copied[i % 2].record()
        yield start, chunk
