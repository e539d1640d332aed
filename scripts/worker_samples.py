"""Write the sample worker files under docs/samples/ (deterministic): `python scripts/worker_samples.py`."""

from pathlib import Path

from assist.identification.samples import write_samples

if __name__ == "__main__":
    for path in write_samples(Path(__file__).resolve().parent.parent / "docs" / "samples"):
        print(path)
