"""Performance benchmark of QCLMixClassifier (issue 6), in one process.

Every figure that is compared with another is measured in this one process,
interleaved round-robin, so the ratios hold on a noisy shared machine even
when the absolute milliseconds do not.

Sections
--------
1. ms per training step and per epoch: QCLMixClassifier vs a plain skorch MLP
   of the same widths (cross-entropy) and vs the paper's Algorithm 1 followed
   literally (network called twice per batch); batch 64, D = 16 and 64.
2. share of a step spent in the data loader, kNN mixup, the network and each
   loss term, and the per-epoch validation cost.
3. ``predict_proba`` throughput in rows/s (100k and 1M rows, D = 16) next to
   the bare network's forward pass.
4. fit time per row and peak extra memory as the training set grows
   (10k -> 100k -> 1M synthetic rows, one epoch).

Usage::

    python benchmarks/perf/run_perf.py                 # full run, ~10-20 min
    python benchmarks/perf/run_perf.py --quick         # smaller, ~2-4 min
    python benchmarks/perf/run_perf.py --out perf.json
    python benchmarks/perf/run_perf.py --render perf.json   # table of a past run

It writes the JSON file and prints the Markdown table. Training contenders all
run with one torch thread (``--fit-threads``), QCLMixClassifier's default.
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import (ONE_CONFIGURATION, PeakRSS, interleaved, per_call_ms,  # noqa: E402
                      synthetic)

from qclmix_sklearn._estimator._torch_base import torch_threads  # noqa: E402
from _references import algorithm1_fit, n_batches, plain_mlp  # noqa: E402
from qclmix_sklearn import QCLMixClassifier  # noqa: E402
from qclmix_sklearn._estimator._validation_split import validation_split  # noqa: E402


def qclmix(**params):
    """The QCLMixClassifier measured here: one configuration (see ``_measure``)."""
    return QCLMixClassifier(**ONE_CONFIGURATION, **params)


BATCH = 64
N_CLASSES = 4


# -- 1. training step and epoch -------------------------------------------------
def section_steps(n_rows, epochs, rounds, dims, fit_threads):
    results = {}
    default_threads = torch.get_num_threads()
    for d in dims:
        X, y = synthetic(n_rows, d, N_CLASSES)
        fit_idx, valid_idx = validation_split(y, 0.2, 0)
        nb_all = n_batches(n_rows)

        def qcl_steps():
            qclmix(max_epochs=epochs, validation_fraction=None, random_state=0).fit(X, y)

        def mlp_steps():
            plain_mlp(d, N_CLASSES, epochs).fit(X, y)

        def qcl_epochs():
            qclmix(max_epochs=epochs, random_state=0).fit(X, y)

        def qcl_epochs_without_validation():
            qclmix(max_epochs=epochs, validation_fraction=None, random_state=0).fit(
                X[fit_idx], y[fit_idx]
            )

        def algorithm1_epochs():
            algorithm1_fit(X[fit_idx], y[fit_idx], X[valid_idx], y[valid_idx],
                           N_CLASSES, epochs)

        with torch_threads(fit_threads):
            contenders = {"qcl_steps": qcl_steps, "mlp_steps": mlp_steps,
                          "qcl_epochs": qcl_epochs, "algorithm1_epochs": algorithm1_epochs,
                          "qcl_epochs_without_validation": qcl_epochs_without_validation}
            t = interleaved(contenders, rounds)
        step_qcl = 1e3 * t["qcl_steps"] / (epochs * nb_all)
        step_mlp = 1e3 * t["mlp_steps"] / (epochs * nb_all)
        epoch_qcl = 1e3 * t["qcl_epochs"] / epochs
        epoch_alg1 = 1e3 * t["algorithm1_epochs"] / epochs
        results[f"D{d}"] = {
            "n_rows": n_rows, "epochs": epochs,
            "step_ms_qclmix": step_qcl, "step_ms_plain_mlp": step_mlp,
            "step_ratio_qclmix_over_mlp": step_qcl / step_mlp,
            "epoch_ms_qclmix": epoch_qcl, "epoch_ms_algorithm1": epoch_alg1,
            "epoch_speedup_over_algorithm1": epoch_alg1 / epoch_qcl,
            "validation_share_of_epoch": 1 - t["qcl_epochs_without_validation"] / t["qcl_epochs"],
        }
        if d == dims[0] and default_threads != fit_threads:
            # n_threads=None (torch's own thread count) vs the default n_threads=1:
            # one epoch on a quarter of the rows, as it can be very slow.
            Xq, yq = X[: n_rows // 4], y[: n_rows // 4]

            def fit_with(n_threads):
                return lambda: qclmix(
                    max_epochs=1, validation_fraction=None, n_threads=n_threads, random_state=0
                ).fit(Xq, yq)

            with torch_threads(default_threads):
                tq = interleaved({"default": fit_with(None), "one": fit_with(1)}, 1)
            results[f"D{d}"]["torch_default_threads"] = default_threads
            results[f"D{d}"]["step_ms_qclmix_torch_default_threads"] = (
                1e3 * tq["default"] / n_batches(len(yq))
            )
            results[f"D{d}"]["step_ms_qclmix_n_threads_1_same_run"] = (
                1e3 * tq["one"] / n_batches(len(yq))
            )
    return results


# -- 2. where a step goes ---------------------------------------------------------
def section_breakdown(step_ms, fit_threads, repeats):
    X, y = synthetic(50 * BATCH, 16, N_CLASSES)
    model = qclmix(max_epochs=1, validation_fraction=None, random_state=0).fit(X, y)
    net = model.net_
    criterion = net.criterion_
    # A freshly initialised network, as at the start of training: its
    # embedding gives the miner many pairs (a trained one may give none).
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = model._build_module(16, N_CLASSES)
    dataset = net.get_dataset(X, y)
    shares = {}
    with torch_threads(fit_threads):
        iterator = net.get_iterator(dataset, training=True)
        n_seen = [0]

        def one_epoch_of_batches():
            for _ in iterator:
                n_seen[0] += 1

        start = time.perf_counter()
        for _ in range(3):
            one_epoch_of_batches()
        loader_ms = 1e3 * (time.perf_counter() - start) / n_seen[0]

        xb = torch.from_numpy(X[:BATCH]).clone()
        yb = torch.from_numpy(y[:BATCH]).long()
        mixup = dict(net.callbacks_).get("knn_mixup")
        if mixup is None:
            mixup_ms = 0.0
        else:
            mixup_ms = per_call_ms(
                lambda: mixup.on_batch_begin(net, batch=(xb.clone(), yb), training=True), repeats
            )
        module.train()
        forward_ms = per_call_ms(lambda: module(xb), repeats)
        with torch.no_grad():
            logits, embedding = module(xb)
        logits = logits.detach().requires_grad_()
        embedding = embedding.detach().requires_grad_()

        def fwd_bwd(fn):
            def run():
                value = fn()
                if value.requires_grad:
                    value.backward()
            return run

        fvl_ms = per_call_ms(fwd_bwd(lambda: criterion.focal_variance(logits, embedding, yb)),
                             repeats)
        # SupCon, the miner and the triplet term: one fused node (SupConTripletLoss).
        metric_ms = per_call_ms(fwd_bwd(lambda: criterion.metric(embedding, yb)), repeats)
        # The estimator's optimizer, with its settings, on this module.
        optimizer = net.optimizer_
        optimizer = type(optimizer)(list(module.parameters()) + list(criterion.parameters()))
        optimizer.defaults.update(net.optimizer_.defaults)
        for group in optimizer.param_groups:
            group.update(net.optimizer_.defaults)

        def core_step():
            optimizer.zero_grad()
            out = module(xb)
            criterion(out, yb).backward()
            optimizer.step()

        core_ms = per_call_ms(core_step, repeats)
        optimizer_ms = per_call_ms(optimizer.step, repeats)  # gradients exist now

    parts = {
        "data_loader": loader_ms, "knn_mixup": mixup_ms, "network_forward": forward_ms,
        "loss_focal_variance_fwd_bwd": fvl_ms, "loss_metric_fwd_bwd": metric_ms,
        "adamw_step": optimizer_ms,
        "core_step_fwd_loss_bwd_adamw": core_ms,
    }
    shares = {name: ms / step_ms for name, ms in parts.items()}
    return {"step_ms": step_ms, "ms": parts, "share_of_step": shares}


# -- 3. prediction throughput --------------------------------------------------------
def section_predict(sizes, rounds):
    X, y = synthetic(10_000, 16, N_CLASSES)
    model = qclmix(max_epochs=1, random_state=0).fit(X, y)
    X_big, _ = synthetic(max(sizes), 16, N_CLASSES, seed=1)
    module = model.net_.module_.eval()
    results = {}
    for threads in sorted({1, torch.get_num_threads()}):
        # Several threads can be very slow on a busy machine: smallest size only.
        for n in sizes if threads == 1 else sizes[:1]:
            Xn = X_big[:n]
            Xt = torch.from_numpy(Xn)

            def bare_forward():
                # The network alone (logits head), in the chunks predict uses.
                with torch.inference_mode():
                    for start in range(0, n, 8192):
                        module.logits(Xt[start:start + 8192])

            model.set_params(n_threads=threads)  # predict_proba sets them itself
            with torch_threads(threads):
                t = interleaved({"predict_proba": lambda: model.predict_proba(Xn),
                                 "bare_forward": bare_forward}, rounds if threads == 1 else 1)
            results[f"threads_{threads}/rows_{n}"] = {
                "threads": threads, "rows": n,
                "predict_proba_rows_per_s": n / t["predict_proba"],
                "bare_forward_rows_per_s": n / t["bare_forward"],
            }
    return results


# -- 3b. large-batch mode -------------------------------------------------------------
# lr = max_lr / 25: the initial rate these runs had while OneCycleLR ignored lr (issue 11).
LARGE_BATCH = {"batch_size": 1024, "group_size": 64, "lr": 6.4e-3, "max_lr": 1.6e-1}


def section_large_batch(n_rows, epochs, rounds, fit_threads):
    """Epoch time of the paper's batch 64 vs the large-batch mode, letter-sized data."""
    X, y = synthetic(n_rows, 16, 26)
    with torch_threads(fit_threads):
        t = interleaved({
            "batch64": lambda: qclmix(max_epochs=epochs, random_state=0).fit(X, y),
            "batch1024_group64": lambda: qclmix(
                max_epochs=epochs, random_state=0, **LARGE_BATCH).fit(X, y),
            "batch1024_whole_batch": lambda: qclmix(
                max_epochs=epochs, random_state=0,
                **{**LARGE_BATCH, "group_size": None}).fit(X, y),
        }, rounds)
    return {
        "n_rows": n_rows, "epochs": epochs, "params": LARGE_BATCH,
        **{f"epoch_s_{k}": v / epochs for k, v in t.items()},
        "speedup_group64": t["batch64"] / t["batch1024_group64"],
        "speedup_whole_batch": t["batch64"] / t["batch1024_whole_batch"],
    }


# -- 4. scaling with the training-set size -------------------------------------------
def section_scaling(sizes, fit_threads):
    results = {}
    X, y = synthetic(2000, 16, N_CLASSES, seed=3)
    with torch_threads(fit_threads):  # warm-up: lazy imports, allocator pools
        qclmix(max_epochs=1, random_state=0).fit(X, y)
    for n in sizes:
        X, y = synthetic(n, 16, N_CLASSES, seed=2)
        model = qclmix(max_epochs=1, random_state=0)
        with torch_threads(fit_threads), PeakRSS() as memory:
            start = time.perf_counter()
            model.fit(X, y)
            elapsed = time.perf_counter() - start
        results[f"rows_{n}"] = {
            "fit_s": elapsed, "us_per_row": 1e6 * elapsed / n,
            "data_mb": (X.nbytes + y.nbytes) / 2**20,
            "peak_extra_mb": memory.extra / 2**20,
        }
        del model, X, y
    first, last = results[f"rows_{sizes[0]}"], results[f"rows_{sizes[-1]}"]
    results["us_per_row_ratio_largest_over_smallest"] = last["us_per_row"] / first["us_per_row"]
    return results


# -- report ---------------------------------------------------------------------------
def markdown(r):
    rows = []

    def add(metric, value, target=""):
        rows.append(f"| {metric} | {value} | {target} |")

    for key, s in r["steps"].items():
        add(f"train step, {key} (ms): QCLMix / plain skorch MLP",
            f"{s['step_ms_qclmix']:.2f} / {s['step_ms_plain_mlp']:.2f} "
            f"= {s['step_ratio_qclmix_over_mlp']:.2f}x", "<= 2x" if key == "D16" else "")
        if "step_ms_qclmix_torch_default_threads" in s:
            add(f"train step, {key} (ms): torch's {s['torch_default_threads']} threads "
                "(n_threads=None) / n_threads=1",
                f"{s['step_ms_qclmix_torch_default_threads']:.2f} / "
                f"{s['step_ms_qclmix_n_threads_1_same_run']:.2f}")
        add(f"epoch, {key} (ms): literal Algorithm 1 / QCLMix",
            f"{s['epoch_ms_algorithm1']:.0f} / {s['epoch_ms_qclmix']:.0f} "
            f"= {s['epoch_speedup_over_algorithm1']:.2f}x faster", ">= 2x")
        share = s["validation_share_of_epoch"]
        add(f"validation share of an epoch, {key}",
            f"{100 * share:.0f} %" if share > 0.02 else "~0 % (below the noise)")
    b = r["breakdown"]
    for name, share in b["share_of_step"].items():
        add(f"D16 step part: {name}", f"{b['ms'][name]:.3f} ms = {100 * share:.0f} % of a step",
            "<= 10 %" if name == "knn_mixup" else "")
    for v in r["predict"].values():
        add(f"predict_proba, {v['rows']:,} rows, D16, {v['threads']} thread(s)",
            f"{v['predict_proba_rows_per_s'] / 1e6:.2f} M rows/s "
            f"(network alone {v['bare_forward_rows_per_s'] / 1e6:.2f} M)", ">= 1 M rows/s")
    if "large_batch" in r:
        lb = r["large_batch"]
        add(f"epoch, {lb['n_rows']:,} rows, 26 classes: batch 64 / batch 1024 + group 64 (s)",
            f"{lb['epoch_s_batch64']:.2f} / {lb['epoch_s_batch1024_group64']:.2f} "
            f"= {lb['speedup_group64']:.1f}x faster")
        add("same, batch 1024 without groups (s)",
            f"{lb['epoch_s_batch1024_whole_batch']:.2f} = {lb['speedup_whole_batch']:.2f}x")
    s = r["scaling"]
    for key, v in s.items():
        if key.startswith("rows_"):
            add(f"fit 1 epoch, {int(key[5:]):,} rows, D16",
                f"{v['us_per_row']:.1f} us/row ({v['fit_s']:.1f} s); peak memory "
                f"+{v['peak_extra_mb']:.0f} MB (data {v['data_mb']:.0f} MB)")
    add("fit time per row, largest / smallest",
        f"{s['us_per_row_ratio_largest_over_smallest']:.2f}x", "<= 1.3x")
    header = ["| measurement | value | target |", "|---|---|---|"]
    return "\n".join(header + rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument("--out", default="perf_results.json", help="JSON output path")
    parser.add_argument("--fit-threads", type=int, default=1,
                        help="torch intra-op threads for every training contender")
    parser.add_argument("--sections", default="steps,breakdown,predict,large_batch,scaling")
    parser.add_argument("--render", metavar="JSON", help="only print the table of a results file")
    args = parser.parse_args(argv)
    if args.render:
        print(markdown(json.loads(Path(args.render).read_text())))
        return None
    sections = args.sections.split(",")
    quick = args.quick
    r = {"settings": {
        "quick": quick, "fit_threads": args.fit_threads,
        "default_torch_threads": torch.get_num_threads(), "torch": torch.__version__,
        "python": platform.python_version(), "machine": platform.machine(),
        "batch_size": BATCH,
    }}
    if "steps" in sections:
        r["steps"] = section_steps(
            n_rows=3200 if quick else 6400, epochs=2 if quick else 3,
            rounds=2 if quick else 3, dims=(16, 64), fit_threads=args.fit_threads,
        )
        print("steps", json.dumps(r["steps"], indent=1), file=sys.stderr)
    if "breakdown" in sections:
        step_ms = r.get("steps", {}).get("D16", {}).get("step_ms_qclmix", float("nan"))
        r["breakdown"] = section_breakdown(step_ms, args.fit_threads, 100 if quick else 300)
        print("breakdown", json.dumps(r["breakdown"], indent=1), file=sys.stderr)
    if "predict" in sections:
        r["predict"] = section_predict(
            (100_000, 300_000) if quick else (100_000, 1_000_000), rounds=2 if quick else 3
        )
        print("predict", json.dumps(r["predict"], indent=1), file=sys.stderr)
    if "large_batch" in sections:
        r["large_batch"] = section_large_batch(
            n_rows=8000 if quick else 16000, epochs=2, rounds=1 if quick else 2,
            fit_threads=args.fit_threads,
        )
        print("large_batch", json.dumps(r["large_batch"], indent=1), file=sys.stderr)
    if "scaling" in sections:
        sizes = (10_000, 30_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
        r["scaling"] = section_scaling(sizes, args.fit_threads)
        print("scaling", json.dumps(r["scaling"], indent=1), file=sys.stderr)
    Path(args.out).write_text(json.dumps(r, indent=2))
    if all(k in r for k in ("steps", "breakdown", "predict", "scaling")):
        print(markdown(r))
    return r


if __name__ == "__main__":
    main()
