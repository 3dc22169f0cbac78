#!/usr/bin/python3
"""The straightforward PyTorch way to project one unit of the demo model back to the input (deconvnet): the eager
model with full backward hooks on its ReLUs, a forward hook capturing the layer, backward from the unit at its
maximum. Prints JSON: median milliseconds per projection for one image and for a batch of 9 (one unit's top 9).

Usage: /usr/bin/python3 reconstruct_reference.py DEMO_DIR THREADS REPS
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import make_reconstructions as mr  # noqa: E402


def main():
    demo_dir, threads, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    model = mr.demo_model(demo_dir)
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
            m.register_full_backward_hook(lambda mod, gin, gout: (gout[0].clamp(min=0),))
    store = {}
    model.features.conv3.register_forward_hook(lambda m, i, o: store.__setitem__("out", o))
    x9 = mr.demo_input(9)

    def project(x):
        xi = x.clone().requires_grad_(True)
        model(xi)
        y = store["out"]
        n = x.shape[0]
        rows = torch.arange(n)
        c = torch.full((n,), 5, dtype=torch.long)
        flat = y.detach()[rows, c].flatten(1).argmax(1)
        sel = y[rows, c, flat // y.shape[3], flat % y.shape[3]]
        grad, = torch.autograd.grad(sel.sum(), xi)
        return grad

    result = {}
    for name, x in (("one", x9[:1]), ("nine", x9)):
        for _ in range(5):
            project(x)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            project(x)
            times.append(time.perf_counter() - t0)
        times.sort()
        result[name] = 1000 * times[len(times) // 2]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
