"""Large-batch mode: macro-F1 and fit time of batch 1024 vs the paper's batch 64.

The paper's recipe (batch 64, AdamW lr 1e-3, OneCycle max_lr 1e-2, 100 epochs)
against larger batches (``CONFIGS``: ``batch1024`` scales both learning rates
linearly by 1024 / 64 = 16, the ``_sqrt_lr`` variants by the square root),
with batch-level terms within groups of 64 rows, on the paper's stratified
80/20 split (seed 42) of
letter and pen_digits, standardised, several model seeds. Test labels are
used for the final score only.

Usage::

    python benchmarks/perf/large_batch.py [--seeds 0 1 2] [--out large_batch.json]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn.datasets import load_benchmark

CONFIGS = {
    "batch64": {},
    # lr = max_lr / 25: the initial rate these runs had while OneCycleLR ignored lr (issue 11).
    "batch1024_sqrt_lr": {"batch_size": 1024, "group_size": 64, "lr": 1.6e-3, "max_lr": 4e-2},
    "batch1024": {"batch_size": 1024, "group_size": 64, "lr": 6.4e-3, "max_lr": 1.6e-1},
    "batch256_sqrt_lr": {"batch_size": 256, "group_size": 64, "lr": 2e-3, "max_lr": 2e-2},
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["letter", "pen_digits"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS))
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--out", default="large_batch.json")
    args = parser.parse_args(argv)
    results = {}
    for name in args.datasets:
        data = load_benchmark(name)
        X_train, X_test, y_train, y_test = train_test_split(
            data.data, data.target, test_size=0.2, stratify=data.target, random_state=42
        )
        for config in args.configs:
            scores, times = [], []
            for seed in args.seeds:
                # one configuration (portfolio=None), the default when this was measured
                model = make_pipeline(StandardScaler(), QCLMixClassifier(
                    max_epochs=args.max_epochs, random_state=seed, portfolio=None,
                    **CONFIGS[config]
                ))
                start = time.perf_counter()
                model.fit(X_train, y_train)
                times.append(time.perf_counter() - start)
                scores.append(f1_score(y_test, model.predict(X_test), average="macro"))
                print(name, config, seed, f"{scores[-1]:.4f}", f"{times[-1]:.1f}s", flush=True)
            results[f"{name}/{config}"] = {
                "params": CONFIGS[config], "seeds": args.seeds, "macro_f1": scores,
                "macro_f1_mean": float(np.mean(scores)), "macro_f1_std": float(np.std(scores)),
                "fit_s": times, "fit_s_mean": float(np.mean(times)),
            }
            Path(args.out).write_text(json.dumps(results, indent=2))
    print("| dataset | setting | macro-F1 (mean ± std) | fit time (s) | speed-up |")
    print("|---|---|---|---|---|")
    for name in args.datasets:
        base = results.get(f"{name}/batch64")
        for config in args.configs:
            r = results[f"{name}/{config}"]
            speedup = f"{base['fit_s_mean'] / r['fit_s_mean']:.1f}x" if base else ""
            print(f"| {name} | {config} | {r['macro_f1_mean']:.4f} ± {r['macro_f1_std']:.4f} "
                  f"| {r['fit_s_mean']:.1f} | {speedup} |")


if __name__ == "__main__":
    main()
