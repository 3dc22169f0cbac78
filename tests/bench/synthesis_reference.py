#!/usr/bin/python3
"""The straightforward PyTorch loop for an image that excites one unit: the same parametrisation and transforms as
Convscope's UnitSynthesizer (make_synthesis_reference.py's functions), eager model, forward hook on the layer, Adam
on the spectrum, 128 steps. Models: the demo CNN (features.relu3 unit 5, 28 px) and a torchvision ResNet-18 with
seeded random weights (layer3 unit 10, 224 px), which it also saves as TorchScript for the C++ side.
Prints JSON: milliseconds per step for each.

Usage: /usr/bin/python3 synthesis_reference.py OUTDIR THREADS STEPS
"""
import json
import math
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import make_synthesis_reference as ref  # noqa: E402


def loop(model, layer, unit, size, channels, spec, steps):
    module = dict(model.named_modules())[layer]
    store = {}
    module.register_forward_hook(lambda m, i, o: store.__setitem__("out", o))
    spectrum = (torch.randn(1, channels, size, size // 2 + 1, 2) * 0.01).requires_grad_(True)
    opt = torch.optim.Adam([spectrum], lr=0.05)
    colour = ref.natural_colour() if channels == 3 else None
    mean = torch.tensor(spec["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(spec["std"]).view(1, -1, 1, 1)
    rnd = random.Random(1)
    start = time.perf_counter()
    for _ in range(steps):
        t = {"dx": round(rnd.uniform(-1, 1) * 0.04 * size), "dy": round(rnd.uniform(-1, 1) * 0.04 * size),
             "scale": 1 + rnd.uniform(-1, 1) * 0.1, "angle": rnd.uniform(-1, 1) * 10}
        x = ref.transformed(ref.images_of(spectrum, size, size, 1.0, 0.25, colour), t)
        model((x - mean) / std)
        loss = -store["out"][0, unit].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (time.perf_counter() - start) * 1000 / steps


def main():
    out, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    demo = ref.train_demo.FashionCNN()
    demo.load_state_dict(torch.jit.load(os.path.join(ref.ROOT, "resources", "demo", "fashion_cnn.pt")).state_dict())
    demo.eval()
    import torchvision
    resnet = torchvision.models.resnet18(num_classes=1000).eval()
    path = os.path.join(out, "resnet18.pt")
    if not os.path.exists(path):
        torch.jit.script(resnet).save(path)
        with open(os.path.join(out, "resnet18.json"), "w") as f:
            json.dump({"input": {"width": 224, "height": 224, "channels": 3, "mean": ref.IMAGENET_MEAN,
                                 "std": ref.IMAGENET_STD, "resize": "stretch", "range": 1.0}}, f)
    else:
        resnet.load_state_dict(torch.jit.load(path).state_dict())
    for p in list(demo.parameters()) + list(resnet.parameters()):
        p.requires_grad_(False)
    demo_spec = {"mean": [ref.train_demo.MEAN], "std": [ref.train_demo.STD]}
    imagenet = {"mean": ref.IMAGENET_MEAN, "std": ref.IMAGENET_STD}
    print(json.dumps({
        "demo": loop(demo, "features.relu3", 5, 28, 1, demo_spec, steps),
        "resnet18": loop(resnet, "layer3", 10, 224, 3, imagenet, steps),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
