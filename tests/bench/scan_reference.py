#!/usr/bin/python3
"""The straightforward PyTorch way to do what `convscope scan` does, for the scan benchmark: forward hooks on the
demo model's scanned layers, per-(image, channel) max/argmax/mean kept for the whole dataset, then a stable sort
per channel (larger value first, ties to the smaller image index). Prints its time and writes the selections.

Usage: /usr/bin/python3 scan_reference.py DEMO_DIR OUT.json [BATCH]
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch

LAYERS = ["features.conv1", "features.conv2", "features.conv3", "features.conv4", "features"]


def main():
    demo_dir, out = sys.argv[1], sys.argv[2]
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    sys.path.insert(0, demo_dir)
    import train_demo
    scripted = torch.jit.load(os.path.join(demo_dir, "fashion_cnn.pt"))
    model = train_demo.FashionCNN()
    model.load_state_dict(scripted.state_dict())
    model.eval()
    start = time.perf_counter()
    with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
        raw = f.read()
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 1, 28, 28)
    modules = dict(model.named_modules())
    stats = {l: ([], [], []) for l in LAYERS}

    def hook(name):
        def f(mod, inp, out):
            flat = out.detach().flatten(2)
            v, i = flat.max(2)
            stats[name][0].append(v)
            stats[name][1].append(i)
            stats[name][2].append(flat.mean(2))
        return f

    handles = [modules[l].register_forward_hook(hook(l)) for l in LAYERS]
    with torch.no_grad():
        for b in range(0, len(images), batch):
            x = torch.from_numpy(images[b:b + batch].astype(np.float32) / 255)
            model((x - train_demo.MEAN) / train_demo.STD)
    for h in handles:
        h.remove()
    result = {}
    for l in LAYERS:
        v, i, m = (torch.cat(t) for t in stats[l])
        top_max = torch.sort(-v, dim=0, stable=True).indices[:9].T  # C×9 image indices
        top_mean = torch.sort(-m, dim=0, stable=True).indices[:9].T
        result[l] = {"max": top_max.tolist(), "mean": top_mean.tolist()}
    seconds = time.perf_counter() - start
    with open(out, "w") as f:
        json.dump({"seconds": seconds, "threads": torch.get_num_threads(), "layers": result}, f)
    print(f"pytorch reference: {len(images)} images in {seconds:.2f} s ({len(images) / seconds:.0f} img/s)")


if __name__ == "__main__":
    main()
