"""Timing, memory and data helpers of the performance benchmark."""

import os
import threading
import time

import numpy as np


#: What these measurements call the default: one configuration, the 3-member ensemble (the
#: defaults until 2026-12-05, when the default became a portfolio that trains it twice, once on
#: selected columns); the figures of docs/performance.md are of it.
ONE_CONFIGURATION = {"portfolio": None}


def synthetic(n_samples, n_features, n_classes=4, seed=0):
    """Imbalanced Gaussian classes: cheap to make at 1M rows, float32."""
    rng = np.random.default_rng(seed)
    weights = np.geomspace(1.0, 0.1, n_classes)
    y = rng.choice(n_classes, size=n_samples, p=weights / weights.sum())
    centres = rng.normal(scale=1.5, size=(n_classes, n_features)).astype(np.float32)
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    X += centres[y]
    return X, y


def seconds(fn, *args, **kwargs):
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def per_call_ms(fn, repeats, warmup=5):
    """Median-free, low-overhead mean of many back-to-back calls, in ms."""
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return 1e3 * (time.perf_counter() - start) / repeats


def interleaved(named_fns, rounds):
    """Run ``{name: fn}`` round-robin ``rounds`` times; median seconds per name.

    Interleaving makes a load spike on the shared machine hit every
    contender alike, so their ratios stay meaningful.
    """
    times = {name: [] for name in named_fns}
    for _ in range(rounds):
        for name, fn in named_fns.items():
            times[name].append(seconds(fn))
    return {name: float(np.median(values)) for name, values in times.items()}


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Peak resident memory above the level at entry, sampled every 5 ms."""

    def __enter__(self):
        self.baseline = _rss_bytes()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())
        self.extra = self.peak - self.baseline
