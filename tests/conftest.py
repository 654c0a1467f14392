import os
from pathlib import Path

# Benchmark data files live beside the repository (<repo>/../shared/datasets), in CI as here.
os.environ.setdefault(
    "QCLMIX_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "datasets")
)
