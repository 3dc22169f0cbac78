#!/usr/bin/python3
"""Recipe for Convscope's bundled demo model.

Trains a small classic CNN (4 conv layers with batch norm, ReLU and max-pooling, two fully connected layers and a
classifier) on the Fashion-MNIST training set from Debian's `dataset-fashion-mnist` package, evaluates it on the
test set, and writes the TorchScript file `fashion_cnn.pt` plus its sidecar `fashion_cnn.json` next to this script.

Run with Debian's interpreter and torch:  /usr/bin/python3 resources/demo/train_demo.py
Reproducible: seeded, deterministic single-process data order. About 10-15 minutes on 2 cores.
"""
import gzip
import json
import os
import struct
import sys
import time
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MEAN, STD = 0.2860, 0.3530
EPOCHS = int(os.environ.get("DEMO_EPOCHS", "9"))
SEED = 20261127


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def conv_block(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class FashionCNN(nn.Module):
    """conv1-pool1-conv2-conv3-pool2-conv4-pool3 | fc1-fc2-classifier."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(1, 32, 3, padding=1, bias=False)), ("bn1", nn.BatchNorm2d(32)), ("relu1", nn.ReLU()),
            ("pool1", nn.MaxPool2d(2)),                                                   # 28 -> 14
            ("conv2", nn.Conv2d(32, 64, 3, padding=1, bias=False)), ("bn2", nn.BatchNorm2d(64)), ("relu2", nn.ReLU()),
            ("conv3", nn.Conv2d(64, 64, 3, padding=1, bias=False)), ("bn3", nn.BatchNorm2d(64)), ("relu3", nn.ReLU()),
            ("pool2", nn.MaxPool2d(2)),                                                   # 14 -> 7
            ("conv4", nn.Conv2d(64, 128, 3, padding=1, bias=False)), ("bn4", nn.BatchNorm2d(128)), ("relu4", nn.ReLU()),
            ("pool3", nn.MaxPool2d(2)),                                                   # 7 -> 3
        ]))
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()),
            ("drop1", nn.Dropout(0.3)),
            ("fc1", nn.Linear(128 * 3 * 3, 256)), ("relu5", nn.ReLU()),
            ("drop2", nn.Dropout(0.3)),
            ("fc2", nn.Linear(256, 128)), ("relu6", nn.ReLU()),
            ("fc3", nn.Linear(128, 10)),
        ]))

    def forward(self, x):
        return self.classifier(self.features(x))


def main():
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(os.cpu_count() or 1)
    xtr = torch.from_numpy(read_idx("train-images-idx3-ubyte.gz").copy()).float().div_(255).sub_(MEAN).div_(STD)
    ytr = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.from_numpy(read_idx("t10k-images-idx3-ubyte.gz").copy()).float().div_(255).sub_(MEAN).div_(STD)
    yte = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))
    xtr, xte = xtr.unsqueeze(1), xte.unsqueeze(1)

    model = FashionCNN()
    batch = 128
    steps = EPOCHS * ((len(xtr) + batch - 1) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.2)
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(xtr), generator=gen)
        total = 0.0
        for i in range(0, len(xtr), batch):
            idx = perm[i:i + batch]
            x = xtr[idx]
            # light augmentation: random horizontal flip (clothes are left/right symmetric)
            flip = torch.rand(len(idx), generator=gen) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            loss = F.cross_entropy(model(x), ytr[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        acc = evaluate(model, xte, yte)
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {total / len(xtr):.4f}, test accuracy {acc:.4f}, "
              f"{time.time() - t0:.0f} s", flush=True)

    model.eval()
    acc = evaluate(model, xte, yte)
    scripted = torch.jit.script(model)
    out_pt = os.path.join(HERE, "fashion_cnn.pt")
    scripted.save(out_pt)
    sidecar = {
        "name": "Fashion-MNIST demo CNN",
        "description": f"4 conv + 3 fc layers, trained by train_demo.py ({EPOCHS} epochs, seed {SEED}); "
                       f"test accuracy {acc:.4f}",
        "input": {"width": 28, "height": 28, "channels": 1, "mean": [MEAN], "std": [STD],
                  "resize": "stretch", "range": 1.0},
        "labels": CLASSES,
        "layer_names": {
            "features.conv1": "conv 1", "features.conv2": "conv 2", "features.conv3": "conv 3",
            "features.conv4": "conv 4", "classifier.fc1": "fc 1", "classifier.fc2": "fc 2",
            "classifier.fc3": "classifier",
        },
        "dataset": "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
    }
    with open(os.path.join(HERE, "fashion_cnn.json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")
    print(f"final test accuracy {acc:.4f}; wrote {out_pt} ({os.path.getsize(out_pt)} bytes)")
    return 0 if acc >= 0.91 else 1


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    correct = 0
    for i in range(0, len(x), 1000):
        correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    return correct / len(x)


if __name__ == "__main__":
    sys.exit(main())
