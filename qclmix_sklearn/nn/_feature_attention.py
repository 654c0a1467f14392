"""Self-attention recalibration of one sample's features (paper §3.2.1, step 2)."""

from torch import nn


class FeatureSelfAttention(nn.Module):
    """Residual single-head self-attention over a sample seen as a sequence of one.

    ``out = x + attn(x, x, x)`` with ``nn.MultiheadAttention(embed_dim=D,
    num_heads=1)``. Each sample is its own sequence, so no sample's output ever
    depends on the other rows of the batch.

    Parameters
    ----------
    dim : int
        Number of input features (the attention's embedding width).
    """

    def __init__(self, dim):
        super().__init__()
        self.attention = nn.MultiheadAttention(embed_dim=dim, num_heads=1, batch_first=True)

    def forward(self, x):
        sequence = x.unsqueeze(1)  # (batch, 1, dim): one token per sample
        attended, _ = self.attention(sequence, sequence, sequence, need_weights=False)
        return x + attended.squeeze(1)
