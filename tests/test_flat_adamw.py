"""FlatAdamW: torch's AdamW update on one flat tensor holding every parameter."""

import pytest
import torch
from torch import nn

from qclmix_sklearn.training._flat_adamw import FlatAdamW


def network(seed=0):
    # No bias before the BatchNorm: BatchNorm removes it, so its gradient is rounding
    # noise (~1e-8) that AdamW scales up to steps of size lr, and a last-bit difference of
    # the fused kernel (torch 2.11 rounds one) became a 1e-4 difference in that bias.
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7, bias=False), nn.BatchNorm1d(7), nn.ReLU(), nn.Linear(7, 3))


def train(optimizer_class, steps=6, **kwargs):
    module = network()
    optimizer = optimizer_class(module.parameters(), lr=1e-2, weight_decay=0.1, **kwargs)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=steps)
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.randn(16, 5, generator=generator)

        def closure():
            optimizer.zero_grad()
            loss = module(x).square().mean()
            loss.backward()
            return loss

        optimizer.step(closure)
        schedule.step()
    return module, optimizer


@pytest.mark.parametrize("fused", [False, True])
def test_flat_adamw_trains_as_adamw(fused):
    expected, _ = train(torch.optim.AdamW, fused=fused)
    module, optimizer = train(FlatAdamW, fused=fused)
    assert optimizer._flat is not None and len(optimizer.param_groups[0]["params"]) == 1
    for (name, p), q in zip(module.named_parameters(), expected.parameters()):
        if fused:  # the fused kernel may round an element differently in the last bit
            torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7, msg=name)
        else:
            assert torch.equal(p, q), name


def test_parameters_stay_the_modules_own_and_load_into_the_flat_tensor():
    module, optimizer = train(FlatAdamW)
    flat = optimizer._flat
    first = next(module.parameters())
    assert first.untyped_storage().data_ptr() == flat.untyped_storage().data_ptr()
    state = {k: torch.zeros_like(v) for k, v in module.state_dict().items()}
    module.load_state_dict(state)
    assert torch.equal(flat.detach(), torch.zeros_like(flat))
    # zero_grad zeroes every parameter's gradient (views of the flat one)
    optimizer.zero_grad()
    assert all(p.grad is not None and not p.grad.any() for p in module.parameters())


def test_a_parameter_without_gradient_keeps_the_ordinary_adamw():
    module = network()
    unused = nn.Parameter(torch.ones(4))
    optimizer = FlatAdamW([*module.parameters(), unused], lr=1e-2, weight_decay=0.1)
    optimizer.zero_grad()
    module(torch.randn(8, 5)).sum().backward()
    optimizer.step()
    assert optimizer._flat is None and torch.equal(unused.detach(), torch.ones(4))
    assert len(optimizer.param_groups[0]["params"]) == 6


def test_gradients_reset_by_the_module_still_reach_the_flat_tensor():
    expected, _ = train(torch.optim.AdamW, steps=3)
    module = network()
    optimizer = FlatAdamW(module.parameters(), lr=1e-2, weight_decay=0.1)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=3)
    generator = torch.Generator().manual_seed(1)
    for _ in range(3):
        x = torch.randn(16, 5, generator=generator)
        module.zero_grad()  # set_to_none: the next backward makes new gradient tensors
        module(x).square().mean().backward()
        optimizer.step()
        schedule.step()
    for p, q in zip(module.parameters(), expected.parameters()):
        assert torch.equal(p, q)
