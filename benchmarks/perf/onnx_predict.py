"""Predict throughput of the ONNX export in onnxruntime beside the model's own predict_proba.

A QCLMixClassifier (the default 3-member ensemble, and the paper's single
network) is fitted for a few epochs on 2000 synthetic rows (the weights do not
change the cost of a prediction), exported with ``qclmix_sklearn.to_onnx``
and run on 1M x 16 float32 rows: ``predict_proba`` (torch, one thread) and
onnxruntime's CPU session (one intra-op and one inter-op thread), fed
``--chunk`` rows per ``run`` (the whole million at once would hold the
activations of every member for every row). The two alternate each round, so
that a load spike on a shared machine hits both alike: read the ratio. Also
stored: the largest difference of their probabilities and the share of equal
labels over all rows.

Usage::

    python benchmarks/perf/onnx_predict.py [--rows 1000000] [--rounds 3]
"""

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import ONE_CONFIGURATION, interleaved, synthetic  # noqa: E402

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier, onnx_inputs, to_onnx  # noqa: E402

CONFIGS = {"default": dict(ONE_CONFIGURATION), "paper": dict(PAPER_PARAMS)}


def _session(onnx_model):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _run_chunks(session, onnx_model, X, chunk):
    outputs = [session.run(None, onnx_inputs(onnx_model, X[start:start + chunk]))
               for start in range(0, len(X), chunk)]
    return np.concatenate([o[0] for o in outputs]), np.concatenate([o[1] for o in outputs])


def measure(config, X, rounds, chunk, epochs):
    X_fit, y_fit = synthetic(2000, X.shape[1], seed=1)
    model = QCLMixClassifier(max_epochs=epochs, random_state=0, n_threads=1,
                             **CONFIGS[config]).fit(X_fit, y_fit)
    onnx_model = to_onnx(model, X[:5])
    session = _session(onnx_model)
    label, proba = _run_chunks(session, onnx_model, X, chunk)
    seconds = interleaved({
        "torch_predict_proba": lambda: model.predict_proba(X),
        "onnxruntime": lambda: _run_chunks(session, onnx_model, X, chunk),
    }, rounds)
    return {
        "members": len(model.nets_),
        "seconds": seconds,
        "rows_per_s": {name: len(X) / s for name, s in seconds.items()},
        "onnxruntime_over_torch_time": seconds["onnxruntime"] / seconds["torch_predict_proba"],
        "max_abs_proba_difference": float(np.abs(proba - model.predict_proba(X)).max()),
        "equal_labels": float(np.mean(label == model.predict(X))),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "onnx_predict.json"))
    args = parser.parse_args(argv)
    X, _ = synthetic(args.rows, args.features)
    results = {
        "rows": args.rows, "features": args.features, "rounds": args.rounds,
        "chunk": args.chunk, "epochs": args.epochs, "threads": 1,
        "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
        "machine": platform.processor() or platform.machine(), "configs": {},
    }
    for config in args.configs:
        results["configs"][config] = r = measure(config, X, args.rounds, args.chunk, args.epochs)
        print(f"{config} ({r['members']} member(s)): torch predict_proba "
              f"{r['rows_per_s']['torch_predict_proba']:,.0f} rows/s, onnxruntime "
              f"{r['rows_per_s']['onnxruntime']:,.0f} rows/s "
              f"({r['onnxruntime_over_torch_time']:.2f}x torch's time); max |dproba| "
              f"{r['max_abs_proba_difference']:.1e}, equal labels {r['equal_labels']:.6f}",
              flush=True)
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
