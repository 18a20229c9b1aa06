#!/usr/bin/env python3
"""Regenerates common/data/digits-{images,labels}.idx from scikit-learn's copy of the digits.

The 8x8 handwritten digits (UCI "Optical Recognition of Handwritten Digits", Alpaydin & Kaynak
1998, the 1,797-image test set; see common/data/README.md for source and license) ship with
scikit-learn as sklearn/datasets/data/digits.csv.gz. This script stores them as two plain IDX
files (the MNIST format), which mlsys::load_idx reads with no extra dependency:

    digits-images.idx  magic 00 00 08 03, dims 1797 8 8, then 1797*64 ubyte pixels (0..16)
    digits-labels.idx  magic 00 00 08 01, dim 1797, then 1797 ubyte labels (0..9)

The build never runs this; the output is committed. Usage (needs numpy and scikit-learn):

    python3 -m pip install scikit-learn
    python3 tools/data/make_digits.py [--out common/data]

The output is deterministic: the same scikit-learn data gives the same bytes (see the SHA-256
sums printed at the end and listed in common/data/README.md).
"""
import argparse
import hashlib
import pathlib
import struct

import numpy as np
from sklearn.datasets import load_digits

REPO = pathlib.Path(__file__).resolve().parents[2]


def write_idx(path: pathlib.Path, array: np.ndarray) -> None:
    """Writes a uint8 array as IDX: 0, 0, type 0x08 (ubyte), ndim, big-endian int32 dims."""
    assert array.dtype == np.uint8 and array.flags.c_contiguous
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(">" + "i" * array.ndim, *array.shape)
    path.write_bytes(header + array.tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=REPO / "common" / "data",
                        help="output folder (default: common/data of this repository)")
    args = parser.parse_args()

    digits = load_digits()
    pixels, labels = digits.data, digits.target  # float64 [1797, 64], int64 [1797]
    assert pixels.shape == (1797, 64) and labels.shape == (1797,)
    assert np.array_equal(pixels, np.round(pixels)) and pixels.min() >= 0 and pixels.max() <= 16
    assert labels.min() >= 0 and labels.max() <= 9

    args.out.mkdir(parents=True, exist_ok=True)
    write_idx(args.out / "digits-images.idx", pixels.astype(np.uint8).reshape(-1, 8, 8))
    write_idx(args.out / "digits-labels.idx", labels.astype(np.uint8))

    print("class counts:", np.bincount(labels, minlength=10).tolist())
    for name in ("digits-images.idx", "digits-labels.idx"):
        data = (args.out / name).read_bytes()
        print(f"{name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
