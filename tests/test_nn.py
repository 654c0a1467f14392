import pytest
import torch

from qclmix_sklearn.nn import FeatureSelfAttention, QCLMixNet, QuantumEntanglement


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
    "switch, absent", [("use_entanglement", QuantumEntanglement), ("use_attention", FeatureSelfAttention)]
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
