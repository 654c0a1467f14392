import pytest
import torch
from torch import nn

from qclmix_sklearn.nn import (
    BatchNorm1d,
    FeatureSelfAttention,
    Linear,
    PeriodicEmbedding,
    QCLMixNet,
    QuantumEntanglement,
)


def test_quantum_entanglement_follows_the_paper_formula():
    torch.manual_seed(0)
    layer = QuantumEntanglement(5)
    x = torch.randn(7, 5)
    theta = layer.theta.detach()
    projected = x * torch.cos(theta)
    gate = torch.sigmoid((projected * torch.sin(theta)).sum(dim=1, keepdim=True))
    torch.testing.assert_close(layer(x), projected * gate)


@pytest.mark.parametrize("train", [True, False])
def test_attention_acts_within_one_sample(train):
    torch.manual_seed(0)
    attention = FeatureSelfAttention(6).train(train)
    batch = torch.randn(10, 6)
    alone = torch.cat([attention(row[None]) for row in batch])
    torch.testing.assert_close(attention(batch), alone)
    torch.testing.assert_close(attention(batch.flip(0)).flip(0), alone)


def test_network_returns_logits_and_embedding_from_one_forward():
    net = QCLMixNet(12, 4)
    logits, embedding = net(torch.randn(9, 12))
    assert logits.shape == (9, 4)
    assert embedding.shape == (9, 8)


@pytest.mark.parametrize(
    "switch, absent",
    [("use_entanglement", QuantumEntanglement), ("use_attention", FeatureSelfAttention)],
)
def test_ablation_switches_remove_their_module(switch, absent):
    assert any(isinstance(m, absent) for m in QCLMixNet(5, 3).modules())
    ablated = QCLMixNet(5, 3, **{switch: False})
    assert not any(isinstance(m, absent) for m in ablated.modules())
    logits, _ = ablated(torch.randn(4, 5))
    assert logits.shape == (4, 3)


def test_attention_equals_torch_multihead_attention_with_gradients():
    torch.manual_seed(0)
    attention = FeatureSelfAttention(16)
    x = torch.randn(64, 16, requires_grad=True)
    fast, generic = attention(x), attention.generic_forward(x)
    torch.testing.assert_close(fast, generic)
    fast_grads = torch.autograd.grad(fast.square().sum(), [x, *attention.parameters()])
    generic_grads = torch.autograd.grad(generic.square().sum(), [x, *attention.parameters()])
    for fast_grad, generic_grad in zip(fast_grads, generic_grads):
        torch.testing.assert_close(fast_grad, generic_grad, rtol=1e-4, atol=1e-4)


def test_logits_method_equals_the_first_output_of_forward():
    torch.manual_seed(0)
    net = QCLMixNet(6, 3).eval()
    x = torch.randn(10, 6)
    torch.testing.assert_close(net.logits(x), net(x)[0])


def _member_copies(build, k=3):
    layers = []
    for i in range(k):
        torch.manual_seed(i)
        layers.append(build())
    stacked = {name: torch.stack([dict(layer.state_dict())[name] for layer in layers])
               for name in layers[0].state_dict()}
    return layers, stacked


@pytest.mark.parametrize("build, width", [
    (lambda: Linear(5, 4), 5),
    (lambda: BatchNorm1d(5), 5),
    (lambda: QuantumEntanglement(5), 5),
    (lambda: FeatureSelfAttention(5), 5),
    (lambda: PeriodicEmbedding(5, 3), 5),
])
@pytest.mark.parametrize("training", [True, False])
def test_each_layers_member_form_is_its_forward_member_by_member(build, width, training):
    layers, stacked = _member_copies(build)
    x = torch.randn(3, 8, width, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for layer in layers:
            layer.train(training)
        out = layers[0].forward_members(x, stacked)
        for i, layer in enumerate(layers):
            torch.testing.assert_close(out[i], layer(x[i]), rtol=1e-5, atol=1e-6)
            for name, buffer in layer.named_buffers():  # BatchNorm's running statistics
                torch.testing.assert_close(stacked[name][i], buffer)


def test_a_layer_without_member_form_is_refused_not_run_as_one_member():
    from qclmix_sklearn.nn._members import forward_members

    network = nn.Sequential(Linear(4, 4), nn.LayerNorm(4))
    with pytest.raises(TypeError, match="LayerNorm has no member form"):
        forward_members(network, torch.randn(2, 3, 4),
                        {"0.weight": torch.randn(2, 4, 4), "0.bias": torch.randn(2, 4)})
