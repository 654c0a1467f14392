"""Training and prediction on a GPU: the CUDA-graph step and the device prediction path.

What needs no GPU runs everywhere: the captured step's code run without a
graph, its optimizer step, and a model whose ``device`` is CUDA loaded on a
machine without one. The rest is skip-marked (see benchmarks/perf/gpu.py
for the speed).
"""

import functools
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn import _classifier
from qclmix_sklearn.training._stacked_fit import fit_stacked
from qclmix_sklearn.training._stacked_members import StackedAdamW

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=400, n_features=8, n_informative=5, n_classes=3,
                               weights=[0.6, 0.3, 0.1], random_state=0)
    return X.astype(np.float32), y


def _fit(data, monkeypatch, capture, **params):
    """A default-ensemble fit whose stacked loop runs with ``capture``."""
    monkeypatch.setattr(_classifier, "fit_stacked", functools.partial(fit_stacked,
                                                                      capture=capture))
    params = {"max_epochs": 3, "random_state": 0, "batch_size": 32, **params}
    return QCLMixClassifier(**params).fit(*data)


def _losses(model):
    return np.array([net.history[:, "train_loss"] for net in model.nets_])


# Not mixup_space='embedding': there a rounding-level difference of the
# weights can change a nearest neighbour, and so a partner, at any rate
# (its stacked mix is tested in test_stacked_members.py).
@pytest.mark.parametrize("params", [{}, {"class_weight": "balanced"}, {"mixup": False}])
def test_the_captured_steps_code_trains_as_the_eager_steps(data, monkeypatch, params):
    # capture='eager': every full step runs CapturedStep's code (static
    # tensors, rates from the epoch's table, the tensor AdamW) without a graph.
    # The two AdamW kernels round differently, and Adam turns rounding in a
    # coordinate with a near-zero gradient into a full step of size lr: small
    # rates keep that drift below the tolerances, while a batch, draw, weight
    # or rate routed to the wrong member would not.
    params = {"lr": 1e-6, "max_lr": 1e-5, **params}
    reference = _fit(data, monkeypatch, None, **params)
    captured = _fit(data, monkeypatch, "eager", **params)
    np.testing.assert_allclose(_losses(captured), _losses(reference), rtol=1e-5)
    np.testing.assert_allclose(captured.predict_proba(data[0]),
                               reference.predict_proba(data[0]), atol=1e-4)


def test_the_device_step_of_adamw_is_the_fused_step():
    torch.manual_seed(0)
    leaves_shapes = [(3, 5, 4), (3, 4), (3, 2, 7)]
    flat = torch.randn(sum(int(np.prod(s)) for s in leaves_shapes))

    def optimizer():
        param = flat.clone().requires_grad_(True)
        param.grad = torch.zeros_like(param)
        leaves = [v.view(s) for v, s in zip(param.detach().split(
            [int(np.prod(s)) for s in leaves_shapes]), leaves_shapes)]
        return param, StackedAdamW(param, leaves, weight_decay=1e-2)

    (p1, fused), (p2, device) = optimizer(), optimizer()
    for step in range(6):
        grad = torch.randn_like(flat)
        p1.grad.copy_(grad)
        p2.grad.copy_(grad)
        lr, beta1 = [1e-3 * (step + 1), 2e-3, 3e-3], [0.95 - 0.01 * step, 0.9, 0.85]
        fused.step(lr, beta1, [True] * 3)
        device.step_all_on_device(torch.tensor(lr), torch.tensor(beta1))
        device.count_all()
        torch.testing.assert_close(p2.detach(), p1.detach(), rtol=1e-5, atol=1e-7)
    assert device._counts == fused._counts == [6, 6, 6]


def test_a_model_fitted_for_cuda_loads_and_predicts_without_a_gpu(data, monkeypatch):
    # Fitted weights are pickled as numpy arrays and restored on the CPU.
    model = QCLMixClassifier(max_epochs=2, random_state=0).fit(*data)
    model.set_params(device="cuda")
    blob = pickle.dumps(model)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = pickle.loads(blob)
    assert next(restored.net_.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(restored.predict_proba(data[0]), model.predict_proba(data[0]))
    with pytest.raises(ValueError, match="no CUDA GPU"):
        restored.fit(*data)


@needs_cuda
def test_cuda_graph_fit_trains_as_its_eager_steps(data, monkeypatch):
    # Small rates, as above: cuBLAS may round differently inside a graph.
    params = dict(device="cuda", max_epochs=4, lr=1e-6, max_lr=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a failed capture warns
        graphed = _fit(data, monkeypatch, None, **params)
    eager = _fit(data, monkeypatch, "eager", **params)
    np.testing.assert_allclose(_losses(graphed), _losses(eager), rtol=1e-5)
    np.testing.assert_allclose(graphed.predict_proba(data[0]), eager.predict_proba(data[0]),
                               atol=1e-5)


@needs_cuda
@pytest.mark.parametrize("params", [{}, {"n_folds": None}, {"decision_rule": "tuned"}])
def test_cuda_prediction_equals_the_cpu_prediction_of_the_same_weights(params):
    rng = np.random.default_rng(0)
    y = np.arange(3000) % 3
    X = (rng.normal(size=(3000, 6)) + y[:, None]).astype(np.float32)
    model = QCLMixClassifier(device="cuda", max_epochs=2, random_state=0, **params).fit(X, y)
    X_new = rng.normal(size=(300_000, 6)).astype(np.float32)  # several device chunks
    on_cuda = model.predict_proba(X_new)
    on_cpu = pickle.loads(pickle.dumps(model))  # restored on the CPU
    np.testing.assert_allclose(on_cuda, on_cpu.predict_proba(X_new), atol=1e-5)
    np.testing.assert_array_equal(model.predict(X_new[:1000]), on_cpu.predict(X_new[:1000]))
    # A row that overflows float32 inside the network is refused; whether it
    # does depends on the device's kernels (on an H200 the single network's
    # did not): never NaN probabilities in any case.
    X_bad = X_new[:5000].copy()
    X_bad[7, 2] = 1e20
    try:
        proba = model.predict_proba(X_bad)
    except ValueError as exc:
        assert "too large for the network" in str(exc) and "row 7" in str(exc)
    else:
        assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1)


@needs_cuda
def test_a_cuda_fit_predicts_in_a_process_without_a_gpu(data, tmp_path):
    model = QCLMixClassifier(device="cuda", max_epochs=2, random_state=0).fit(*data)
    np.save(tmp_path / "X.npy", data[0])
    np.save(tmp_path / "expected.npy", model.predict_proba(data[0]))
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    script = (
        "import pickle, sys, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        f"d = {str(tmp_path)!r}\n"
        "model = pickle.load(open(d + '/model.pkl', 'rb'))\n"
        "proba = model.predict_proba(np.load(d + '/X.npy'))\n"
        "np.testing.assert_allclose(proba, np.load(d + '/expected.npy'), atol=1e-5)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True,
                   env={**__import__("os").environ, "CUDA_VISIBLE_DEVICES": ""})
