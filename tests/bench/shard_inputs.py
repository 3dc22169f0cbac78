#!/usr/bin/python3
"""Input for the shard benchmark's merge-cost part (made once, then reused):

  OUT/models/wide50.pt + wide50.json   a scripted CNN with 50 conv layers of 1,000 channels on 4×4 maps (a strided
                                       1→1000 conv, then 49 depthwise 1×1 convs with ReLU), 28×28 grey input: its
                                       scan has the top-k state of a 1,000-channel × 50-layer network while its
                                       forward pass costs little, so shards of it are quick to make

Usage: /usr/bin/python3 shard_inputs.py OUT
"""
import json
import os
import sys

import torch
from torch import nn


class Wide(nn.Module):
    def __init__(self, channels=1000, layers=50):
        super().__init__()
        convs = [nn.Conv2d(1, channels, 7, stride=7)]
        convs += [nn.Conv2d(channels, channels, 1, groups=channels) for _ in range(layers - 1)]
        self.convs = nn.ModuleList(convs)
        self.fc = nn.Linear(channels, 10)

    def forward(self, x):
        for conv in self.convs:
            x = torch.relu(conv(x))
        return self.fc(x.mean([2, 3]))


def main(out):
    d = os.path.join(out, "models")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "wide50.pt")
    if os.path.exists(path):
        return
    torch.manual_seed(0)
    model = Wide().eval()
    with torch.no_grad():
        for conv in model.convs[1:]:
            conv.weight.uniform_(0.5, 1.5)  # keep responses alive through 49 layers
    torch.jit.script(model).save(path + ".part")
    os.replace(path + ".part", path)
    with open(os.path.join(d, "wide50.json"), "w") as f:
        json.dump({"input": {"width": 28, "height": 28, "channels": 1, "mean": [0.5], "std": [0.5]}}, f)


if __name__ == "__main__":
    main(sys.argv[1])
