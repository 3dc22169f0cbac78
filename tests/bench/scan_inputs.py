#!/usr/bin/python3
"""Inputs for the scan benchmark's deep-model and large-photo parts (made once, then reused):

  OUT/models/NAME.pt + NAME.json   torchvision's MobileNetV3-small, ResNet-50, DenseNet-121 and EfficientNet-B0,
                                   scripted (torch.jit.script), random weights with non-trivial batch-norm
                                   statistics, 224×224 input with ImageNet normalisation
  OUT/small/NNN.jpg                160 crops of the skimage photos, 384×256, JPEG quality 90
  OUT/large/NNN.jpg                the same 160 crops at 4248×2832 (12 megapixels): enlarged, with a little
                                   sensor-like grain so the files carry a real photo's entropy (3–6 MB each)

Usage: /usr/bin/python3 scan_inputs.py OUT [NAME...]
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision.models as tvm
from PIL import Image

MODELS = {
    "mobilenet_v3_small": tvm.mobilenet_v3_small,
    "resnet50": tvm.resnet50,
    "densenet121": tvm.densenet121,
    "efficientnet_b0": tvm.efficientnet_b0,
}
PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg", "hubble_deep_field.jpg",
          "color.png", "immunohistochemistry.png", "retina.jpg", "ihc.png", "motorcycle_right.png"]
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"


def models(out, names):
    d = os.path.join(out, "models")
    os.makedirs(d, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    for name in names:
        path = os.path.join(d, name + ".pt")
        if os.path.exists(path):
            continue
        torch.manual_seed(0)
        model = MODELS[name]().eval()
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
        torch.jit.script(model).save(path + ".part")
        os.replace(path + ".part", path)
        with open(os.path.join(d, name + ".json"), "w") as f:
            json.dump({"input": {"width": 224, "height": 224, "channels": 3, "mean": [0.485, 0.456, 0.406],
                                 "std": [0.229, 0.224, 0.225], "resize": "stretch"}}, f)


def photos(out, count=160):
    small, large = os.path.join(out, "small"), os.path.join(out, "large")
    if os.path.exists(os.path.join(large, f"{count - 1:03d}.jpg")):
        return
    os.makedirs(small, exist_ok=True)
    os.makedirs(large, exist_ok=True)
    rng = np.random.default_rng(0)
    sources = []
    for name in PHOTOS:
        p = os.path.join(SKIMAGE, name)
        if os.path.exists(p):
            im = Image.open(p).convert("RGB")
            if im.width >= 384 and im.height >= 256:
                sources.append(im)
    for i in range(count):
        im = sources[i % len(sources)]
        # A crop of 3:2 aspect, at a random place and scale, then 384×256.
        w = int(rng.integers(min(384, im.width), im.width + 1))
        h = min(im.height, w * 2 // 3)
        w = h * 3 // 2
        x, y = int(rng.integers(0, im.width - w + 1)), int(rng.integers(0, im.height - h + 1))
        crop = im.crop((x, y, x + w, y + h))
        crop.resize((384, 256), Image.BICUBIC).save(os.path.join(small, f"{i:03d}.jpg"), quality=90)
        big = np.asarray(crop.resize((4248, 2832), Image.BICUBIC), dtype=np.float32)
        big += rng.normal(0, 4, big.shape).astype(np.float32)
        Image.fromarray(np.clip(big, 0, 255).astype(np.uint8)).save(os.path.join(large, f"{i:03d}.jpg"), quality=90)


if __name__ == "__main__":
    out = sys.argv[1]
    models(out, sys.argv[2:] or list(MODELS))
    photos(out)
