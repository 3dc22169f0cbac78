#!/usr/bin/python3
"""Inputs for the ONNX benchmark (made once, then reused): torchvision's ResNet-18, MobileNetV2 and ResNet-50 with
random weights and non-trivial batch-norm statistics, each as OUT/NAME.pt (torch.jit.script) and OUT/NAME.onnx
(torch.onnx.export, opset 13, dynamic batch), 224×224 input.

Usage: /usr/bin/python3 onnx_inputs.py OUT
"""
import os
import sys
import warnings

import torch
import torchvision.models as tvm

warnings.filterwarnings("ignore")
MODELS = {"resnet18": tvm.resnet18, "mobilenet_v2": tvm.mobilenet_v2, "resnet50": tvm.resnet50}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    for name, ctor in MODELS.items():
        if os.path.exists(os.path.join(out, name + ".onnx")):
            continue
        torch.manual_seed(0)
        model = ctor().eval()
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
        torch.jit.script(model).save(os.path.join(out, name + ".pt"))
        with torch.no_grad():
            torch.onnx.export(model, torch.zeros(1, 3, 224, 224), os.path.join(out, name + ".onnx.part"),
                              opset_version=13, input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        os.replace(os.path.join(out, name + ".onnx.part"), os.path.join(out, name + ".onnx"))
        print("made", name, flush=True)


if __name__ == "__main__":
    main()
