"""QCLMix on one CUDA GPU: training step, fit per epoch, prediction; the CPU cores beside it.

Regenerates the GPU table of the README's Performance section (100k x 16, 4
imbalanced classes, batch 64 unless said):

1. one training step of a bare torch loop (an MLP of the default widths
   16-256-128-4 with BatchNorm and LeakyReLU, cross-entropy, fused AdamW,
   OneCycleLR; the rows on the device) and of the default QCLMixClassifier
   (3 stacked members; the step time is its fit's time per epoch over its
   steps per epoch), with and without the CUDA-graph step;
2. seconds per epoch of the default fit, of the paper configuration (one
   network, skorch's loop) and of the large-batch recipe, each from the
   difference of a 1- and a 3-epoch fit (setup and the first epoch's
   warm-up and graph capture cancel out);
3. the same default fit on the machine's CPU cores (all as torch threads):
   per epoch, the first epoch, and a 100-epoch fit estimated from the two;
4. ``predict_proba`` rows/s of the default ensemble on 4M x 16 float32 rows
   at three device chunk sizes, the parts of it (input validation, the
   host-to-device copy, the members' pass with both copies, the copy
   back), and of the paper's single network.

Usage (on a machine with a CUDA GPU)::

    python benchmarks/perf/gpu.py --out benchmarks/perf/results/gpu.json
"""

import argparse
import functools
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import ONE_CONFIGURATION, synthetic  # noqa: E402

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier, _classifier  # noqa: E402
from qclmix_sklearn._estimator import _device, _torch_base
from qclmix_sklearn.ensemble import _fused_inference  # noqa: E402
from qclmix_sklearn.training._stacked_fit import fit_stacked  # noqa: E402

N_CLASSES = 4
RECIPE = dict(batch_size=1024, group_size=64, lr=6.4e-3, max_lr=0.16)


def synced(fn, *args, **kwargs):
    """Seconds of ``fn`` with the device's queue drained before and after."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    torch.cuda.synchronize()
    return time.perf_counter() - start, out


def bare_step_ms(X, y, batch_size=64, widths=(256, 128), epochs=2):
    """ms per step of the leanest training loop of an MLP of the default widths."""
    torch.manual_seed(0)
    layers, width = [], X.shape[1]
    for out in widths:
        layers += [nn.Linear(width, out), nn.BatchNorm1d(out), nn.LeakyReLU()]
        width = out
    module = nn.Sequential(*layers, nn.Linear(width, N_CLASSES)).cuda()
    X, y = torch.from_numpy(X).cuda(), torch.from_numpy(y).cuda()
    n_batches = len(X) // batch_size
    optimizer = torch.optim.AdamW(module.parameters(), lr=4e-4, weight_decay=1e-5, fused=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, div_factor=25,
                                                   total_steps=epochs * n_batches)

    def epoch():
        order = torch.randperm(len(X), device="cuda")
        for b in range(n_batches):
            rows = order[b * batch_size:(b + 1) * batch_size]
            optimizer.zero_grad()
            F.cross_entropy(module(X[rows]), y[rows]).backward()
            optimizer.step()
            schedule.step()

    epoch()  # warm-up
    seconds, _ = synced(epoch)
    return 1e3 * seconds / n_batches


def fit_seconds(X, y, epochs, capture=None, **params):
    fit = functools.partial(fit_stacked, capture=capture)
    original, _classifier.fit_stacked = _classifier.fit_stacked, fit
    try:
        model = QCLMixClassifier(max_epochs=epochs, random_state=0, **params)
        seconds, _ = synced(model.fit, X, y)
    finally:
        _classifier.fit_stacked = original
    return seconds, model


def per_epoch(X, y, capture=None, **params):
    """Seconds per epoch: a 3-epoch fit minus a 1-epoch fit, over 2; and the model."""
    one, _ = fit_seconds(X, y, 1, capture, **params)
    three, model = fit_seconds(X, y, 3, capture, **params)
    return (three - one) / 2, model


def predict_rates(model, X, chunks, repeats=3):
    out = {}
    for rows in chunks:
        _device.DEVICE_CHUNK_ROWS = rows
        _fused_inference.DEVICE_CHUNK_ROWS = rows
        _torch_base.DEVICE_CHUNK_ROWS = rows
        model.predict_proba(X[:100_000])  # warm-up (pinned buffers, kernels)
        times = [synced(model.predict_proba, X)[0] for _ in range(repeats)]
        out[str(rows)] = len(X) / min(times)
    _device.DEVICE_CHUNK_ROWS = _fused_inference.DEVICE_CHUNK_ROWS = 1 << 19
    _torch_base.DEVICE_CHUNK_ROWS = 1 << 19
    return out


def train(X, y, result, log):
    result["bare_step_ms"] = bare_step_ms(X, y)
    log("bare", result["bare_step_ms"])
    cuda = dict(device="cuda", **ONE_CONFIGURATION)
    for name, capture, params in [("default_graph", None, cuda), ("default_eager", "off", cuda),
                                  ("paper", None, {**cuda, **PAPER_PARAMS}),
                                  ("recipe_graph", None, {**cuda, **RECIPE})]:
        seconds, model = per_epoch(X, y, capture, **params)
        steps = max(net.history[-1, "train_batch_count"]
                    for net in getattr(model, "nets_", [model.net_]))
        result[f"{name}_epoch_s"] = seconds
        result[f"{name}_steps_per_epoch"] = steps
        result[f"{name}_step_ms"] = 1e3 * seconds / steps
        log(name, seconds, steps)
    result["step_ratio_graph"] = result["default_graph_step_ms"] / result["bare_step_ms"]
    result["step_ratio_eager"] = result["default_eager_step_ms"] / result["bare_step_ms"]

    # The same default fit on the CPU cores (all of them as torch threads).
    cpu = dict(device="cpu", n_threads=os.cpu_count(), **ONE_CONFIGURATION)
    cpu_one, _ = fit_seconds(X, y, 1, None, **cpu)
    cpu_three, _ = fit_seconds(X, y, 3, None, **cpu)
    gpu_one, _ = fit_seconds(X, y, 1, None, **cuda)
    result["cpu_epoch_s"] = (cpu_three - cpu_one) / 2
    result["cpu_fit_1_epoch_s"], result["gpu_fit_1_epoch_s"] = cpu_one, gpu_one
    result["epoch_speedup_vs_cpu"] = result["cpu_epoch_s"] / result["default_graph_epoch_s"]
    # A default fit of 100 epochs, from the measured parts.
    result["fit_100_epochs_speedup_vs_cpu"] = (
        (cpu_one + 99 * result["cpu_epoch_s"]) / (gpu_one + 99 * result["default_graph_epoch_s"]))
    log("cpu", cpu_one, result["cpu_epoch_s"], "gpu", gpu_one)


def predict(X, y, result, args, log):
    """Prediction: 4M x 16 float32 rows."""
    cuda = dict(device="cuda", **ONE_CONFIGURATION)
    _, model = fit_seconds(X, y, 1, None, **cuda)
    X_big, _ = synthetic(args.predict_rows, 16, N_CLASSES, seed=1)
    result["predict_rows"] = args.predict_rows
    result["predict_rows_per_s"] = predict_rates(model, X_big, [1 << 16, 1 << 19, 1 << 22])
    # Its parts: input validation on the host, the copy over, the rest.
    result["predict_total_s"] = args.predict_rows / result["predict_rows_per_s"][str(1 << 19)]
    seconds, X_valid = synced(_torch_base.validate_prediction_data, model, X_big)
    result["predict_validation_s"] = seconds
    seconds, _ = synced(lambda: torch.from_numpy(X_big).cuda())
    result["host_to_device_copy_s"] = seconds
    modules = [net.module_ for net in model.nets_]
    seconds, _ = synced(_fused_inference.fused_mean_proba, modules, X_valid)
    result["predict_fused_s"] = seconds  # copy over, members, copy back
    probabilities = torch.empty(args.predict_rows, N_CLASSES, dtype=torch.float64, device="cuda")
    _device.to_host(probabilities)  # the pinned buffer, allocated once and cached
    result["device_to_host_copy_s"] = synced(_device.to_host, probabilities)[0]
    _, paper = fit_seconds(X, y, 1, None, **cuda, **PAPER_PARAMS)
    result["paper_predict_rows_per_s"] = predict_rates(paper, X_big, [1 << 19])
    log("predict", result["predict_rows_per_s"], result["paper_predict_rows_per_s"])

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/perf/results/gpu.json")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--predict-rows", type=int, default=4_000_000)
    parser.add_argument("--predict-only", action="store_true",
                        help="measure prediction only, keeping the training figures of --out")
    args = parser.parse_args(argv)
    assert torch.cuda.is_available(), "needs a CUDA GPU"
    X, y = synthetic(args.rows, 16, N_CLASSES)
    result = json.loads(Path(args.out).read_text()) if args.predict_only else {}
    result.update({"gpu": torch.cuda.get_device_name(), "torch": torch.__version__,
                   "cuda": torch.version.cuda, "cpu_cores": os.cpu_count(),
                   "python": platform.python_version(), "rows": args.rows})
    log = functools.partial(print, flush=True)
    if not args.predict_only:
        train(X, y, result, log)
    predict(X, y, result, args, log)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
