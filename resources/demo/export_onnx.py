#!/usr/bin/python3
"""Writes the bundled demo model as ONNX: `fashion_cnn.onnx`, beside `fashion_cnn.pt` (same weights, same sidecar
`fashion_cnn.json`). The exporter folds each batch norm into the convolution before it.

Run with Debian's interpreter and torch:  /usr/bin/python3 resources/demo/export_onnx.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_demo import FashionCNN  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    scripted = torch.jit.load(os.path.join(HERE, "fashion_cnn.pt"))
    model = FashionCNN().eval()
    model.load_state_dict(scripted.state_dict())
    x = torch.zeros(1, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model(x), scripted(x))
    out = os.path.join(HERE, "fashion_cnn.onnx")
    torch.onnx.export(model, x, out, opset_version=13, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
