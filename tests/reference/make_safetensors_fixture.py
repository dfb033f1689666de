"""Writes tests/reference/safetensors/python-written.safetensors and its
expected values, independently of the TypeScript code: the file is laid out
by hand with `struct` + `json` from the published format, F16 values come
from numpy's float16, BF16 values from torch's bfloat16 conversion.

Run (offline, not in CI):  /usr/bin/python3 tests/reference/make_safetensors_fixture.py
Re-run it and commit both outputs if the fixture ever needs to change.
"""
import json
import os
import struct

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "safetensors")


def f32_bits(a):
    return [int(b) for b in np.ascontiguousarray(a, dtype="<f4").view("<u4").ravel()]


def main():
    rng = np.random.default_rng(1234)
    f32 = rng.standard_normal((2, 3)).astype("<f4")
    # F16: ordinary values plus the edge cases (subnormals, inf, -0).
    f16 = np.array([1.0, -2.0, 0.5, 65504.0, 6.0e-8, -0.0, np.inf, -np.inf, 3.14159, 1e-5], dtype="<f2").reshape(2, 5)
    bf16_src = torch.tensor([[1.0, -2.0, 3.14159, 1e-20], [1e30, -0.0, float("inf"), 0.1]], dtype=torch.float32)
    bf16 = bf16_src.to(torch.bfloat16)
    bf16_bytes = bf16.view(torch.int16).numpy().astype("<i2").tobytes()
    i64 = np.array([7, -1, 2**40], dtype="<i8")
    scalar = np.array(2.5, dtype="<f4")

    # Data order differs from name order on purpose; one name is integer-like.
    entries = [
        ("model.f16", "F16", list(f16.shape), f16.tobytes()),
        ("0", "F32", [], scalar.tobytes()),
        ("model.f32", "F32", list(f32.shape), f32.tobytes()),
        ("model.bf16", "BF16", list(bf16.shape), bf16_bytes),
        ("model.i64", "I64", list(i64.shape), i64.tobytes()),
        ("model.empty", "F32", [0, 4], b""),
    ]
    header = {"__metadata__": {"format": "pt", "writer": "make_safetensors_fixture.py"}}
    offset = 0
    for name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    raw = json.dumps(header).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(os.path.join(OUT, "python-written.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for _, _, _, data in entries:
            f.write(data)

    expected = {
        "metadata": header["__metadata__"],
        "order": [e[0] for e in entries],
        "tensors": {
            "model.f16": {"dtype": "F16", "shape": list(f16.shape), "f32_bits": f32_bits(f16.astype(np.float32))},
            "0": {"dtype": "F32", "shape": [], "f32_bits": f32_bits(scalar)},
            "model.f32": {"dtype": "F32", "shape": list(f32.shape), "f32_bits": f32_bits(f32)},
            "model.bf16": {"dtype": "BF16", "shape": list(bf16.shape), "f32_bits": f32_bits(bf16.float().numpy())},
            "model.i64": {"dtype": "I64", "shape": list(i64.shape)},
            "model.empty": {"dtype": "F32", "shape": [0, 4], "f32_bits": []},
        },
    }
    with open(os.path.join(OUT, "python-written.expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
