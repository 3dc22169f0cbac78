#!/usr/bin/python3
"""Recipe for Convscope's bundled demo models.

Trains a small CNN on the Fashion-MNIST training set from Debian's `dataset-fashion-mnist` package, evaluates it on
the test set, and writes a TorchScript file plus its sidecar (.json) next to this script. Three architectures, one
recipe (same data, augmentation, optimiser, schedule and seed), so `convscope compare` contrasts designs, not recipes:

  classic   (default) 4 conv layers with batch norm, ReLU and max-pooling, two fully connected layers and a
            classifier -> fashion_cnn.pt
  mobile    depthwise-separable blocks (3x3 depthwise + 1x1 pointwise, MobileNet v1 style), global average
            pooling, one classifier -> fashion_mobile.pt
  residual  three stages of two residual basic blocks each (ResNet style, 1x1 projection shortcuts), global
            average pooling, one classifier -> fashion_resnet.pt

The classic run also saves its checkpoints — the random initialisation and the models after epochs 1, 2, 4 and 9 —
as checkpoints/fashion_cnn_epochNN.pt (+ sidecars), the series `convscope evolution` and the Units tab's checkpoint
slider show (how features settle while the network trains, Zeiler & Fergus Fig. 4). The last one is fashion_cnn.pt.

Run with Debian's interpreter and torch:  /usr/bin/python3 resources/demo/train_demo.py [classic|mobile|residual]
Reproducible: seeded, deterministic single-process data order. About 10-15 minutes per model on 2 cores.
"""
import gzip
import json
import os
import shutil
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
EPOCHS = {"classic": 9, "mobile": 5, "residual": 5}  # DEMO_EPOCHS overrides
CHECKPOINTS = {"classic": (0, 1, 2, 4, 9)}  # epochs whose models are saved under checkpoints/ (0 = initialisation)
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


def bn_relu(c):
    return [nn.BatchNorm2d(c), nn.ReLU()]


def separable(cin, cout, stride):
    """3x3 depthwise conv (one filter per channel) then a 1x1 pointwise conv, each with batch norm and ReLU."""
    return nn.Sequential(OrderedDict([
        ("dw", nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False)),
        ("bn_dw", nn.BatchNorm2d(cin)), ("relu_dw", nn.ReLU()),
        ("pw", nn.Conv2d(cin, cout, 1, bias=False)), ("bn_pw", nn.BatchNorm2d(cout)), ("relu_pw", nn.ReLU()),
    ]))


class FashionMobile(nn.Module):
    """stem-sep1..sep6 | global average pool-classifier (MobileNet v1 shape, scaled to 28x28 inputs)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("stem", nn.Conv2d(1, 16, 3, padding=1, bias=False)), ("bn_stem", nn.BatchNorm2d(16)),
            ("relu_stem", nn.ReLU()),
            ("sep1", separable(16, 32, 1)),                                               # 28
            ("sep2", separable(32, 64, 2)),                                               # 28 -> 14
            ("sep3", separable(64, 64, 1)),
            ("sep4", separable(64, 128, 2)),                                              # 14 -> 7
            ("sep5", separable(128, 128, 1)),
            ("sep6", separable(128, 256, 2)),                                             # 7 -> 4
        ]))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()), ("drop", nn.Dropout(0.2)), ("fc", nn.Linear(256, 10)),
        ]))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))


class BasicBlock(nn.Module):
    """Two 3x3 convs with batch norm; the input is added back (through a 1x1 projection when the shape changes)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(OrderedDict([
                ("conv", nn.Conv2d(cin, cout, 1, stride=stride, bias=False)), ("bn", nn.BatchNorm2d(cout))]))
        self.relu2 = nn.ReLU()

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(y + self.shortcut(x))


class FashionResNet(nn.Module):
    """stem-layer1(2 blocks, 16)-layer2(2 blocks, 32, /2)-layer3(2 blocks, 64, /2) | global average pool-fc."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(1, 16, 3, padding=1, bias=False)), ("bn", nn.BatchNorm2d(16)), ("relu", nn.ReLU())]))
        self.layer1 = nn.Sequential(BasicBlock(16, 16, 1), BasicBlock(16, 16, 1))     # 28
        self.layer2 = nn.Sequential(BasicBlock(16, 32, 2), BasicBlock(32, 32, 1))     # 28 -> 14
        self.layer3 = nn.Sequential(BasicBlock(32, 64, 2), BasicBlock(64, 64, 1))     # 14 -> 7
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(self.flatten(self.pool(x)))


def mobile_names():
    names = {"features.stem": "stem"}
    for i in range(1, 7):
        names[f"features.sep{i}.dw"] = f"sep {i} depthwise"
        names[f"features.sep{i}.pw"] = f"sep {i} pointwise"
    names["classifier.fc"] = "classifier"
    return names


def resnet_names():
    names = {"stem.conv": "stem"}
    for stage in range(1, 4):
        for block in range(2):
            names[f"layer{stage}.{block}"] = f"stage {stage} block {block + 1}"
    names["fc"] = "classifier"
    return names


# name -> (class, output file stem, sidecar name, description, layer names, accuracy the recipe must reach). The two
# newer architectures train for 5 epochs: each epoch costs about as much as the classic one's, and they reach within
# a point or two of it.
ARCHITECTURES = {
    "classic": (FashionCNN, "fashion_cnn", "Fashion-MNIST demo CNN", "4 conv + 3 fc layers", None, 0.91),
    "mobile": (FashionMobile, "fashion_mobile", "Fashion-MNIST mobile CNN",
               "stem + 6 depthwise-separable blocks + global average pool + 1 fc", mobile_names, 0.89),
    "residual": (FashionResNet, "fashion_resnet", "Fashion-MNIST residual CNN",
                 "stem + 3 stages of 2 residual blocks + global average pool + 1 fc", resnet_names, 0.90),
}
CLASSIC_LAYER_NAMES = {
    "features.conv1": "conv 1", "features.conv2": "conv 2", "features.conv3": "conv 3",
    "features.conv4": "conv 4", "classifier.fc1": "fc 1", "classifier.fc2": "fc 2",
    "classifier.fc3": "classifier",
}


def main():
    arch = sys.argv[1] if len(sys.argv) > 1 else "classic"
    if arch not in ARCHITECTURES:
        print(f"usage: {sys.argv[0]} [{'|'.join(ARCHITECTURES)}]", file=sys.stderr)
        return 2
    cls, stem, title, summary, layer_names, required = ARCHITECTURES[arch]
    epochs = int(os.environ.get("DEMO_EPOCHS", EPOCHS[arch]))
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(os.cpu_count() or 1)
    xtr = torch.from_numpy(read_idx("train-images-idx3-ubyte.gz").copy()).float().div_(255).sub_(MEAN).div_(STD)
    ytr = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.from_numpy(read_idx("t10k-images-idx3-ubyte.gz").copy()).float().div_(255).sub_(MEAN).div_(STD)
    yte = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))
    xtr, xte = xtr.unsqueeze(1), xte.unsqueeze(1)

    model = cls()
    batch = 128
    steps = epochs * ((len(xtr) + batch - 1) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.2)
    gen = torch.Generator().manual_seed(SEED)
    checkpoints = CHECKPOINTS.get(arch, ())

    def sidecar(description):
        return {
            "name": title,
            "description": description,
            "input": {"width": 28, "height": 28, "channels": 1, "mean": [MEAN], "std": [STD],
                      "resize": "stretch", "range": 1.0},
            "labels": CLASSES,
            "layer_names": layer_names() if layer_names else CLASSIC_LAYER_NAMES,
            "dataset": "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
        }

    def save_checkpoint(epoch, final_file=None):
        if epoch not in checkpoints or (epoch == epochs and final_file is None):
            return  # the last epoch's checkpoint is the final model file itself, copied once it is written
        acc = evaluate(model, xte, yte)  # leaves the model in eval mode, as it is saved
        folder = os.path.join(HERE, "checkpoints")
        os.makedirs(folder, exist_ok=True)
        stem_path = os.path.join(folder, f"{stem}_epoch{epoch:02d}")
        if final_file:
            shutil.copyfile(final_file, stem_path + ".pt")  # the same bytes: one blob in git, one scan identity
        else:
            torch.jit.script(model).save(stem_path + ".pt")
        when = "random initialisation" if epoch == 0 else f"after epoch {epoch} of {epochs}"
        with open(stem_path + ".json", "w") as f:
            json.dump(sidecar(f"{summary}, {when} (train_demo.py, seed {SEED}); test accuracy {acc:.4f}"), f,
                      indent=2)
            f.write("\n")
        print(f"checkpoint {stem_path}.pt: test accuracy {acc:.4f}", flush=True)

    save_checkpoint(0)
    for epoch in range(epochs):
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
        print(f"epoch {epoch + 1}/{epochs}: loss {total / len(xtr):.4f}, test accuracy {acc:.4f}, "
              f"{time.time() - t0:.0f} s", flush=True)
        save_checkpoint(epoch + 1)

    model.eval()
    acc = evaluate(model, xte, yte)
    scripted = torch.jit.script(model)
    out_pt = os.path.join(HERE, stem + ".pt")
    scripted.save(out_pt)
    arch_arg = "" if arch == "classic" else " " + arch
    with open(os.path.join(HERE, stem + ".json"), "w") as f:
        json.dump(sidecar(f"{summary}, trained by train_demo.py{arch_arg} ({epochs} epochs, seed {SEED}); "
                          f"test accuracy {acc:.4f}"), f, indent=2)
        f.write("\n")
    save_checkpoint(epochs, out_pt)
    print(f"final test accuracy {acc:.4f}; wrote {out_pt} ({os.path.getsize(out_pt)} bytes)")
    return 0 if acc >= required else 1


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    correct = 0
    for i in range(0, len(x), 1000):
        correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    return correct / len(x)


if __name__ == "__main__":
    sys.exit(main())
