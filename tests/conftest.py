import os
from pathlib import Path

# Benchmark data files live beside the repository (<repo>/../shared/datasets), in CI as here.
os.environ.setdefault(
    "QCLMIX_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "datasets")
)

import torch  # noqa: E402

# The test networks are tiny: one intra-op thread avoids oversubscription when
# several test processes share the two cores of a CI machine.
torch.set_num_threads(1)
