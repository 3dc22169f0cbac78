#!/usr/bin/python3
"""Inputs, baselines and scores for the map benchmark (tests/bench/MapBench.cpp).

  prepare OUT DEMO_DIR      Fashion-MNIST, all 70,000 images (train + test idx files of the Debian package):
                            OUT/pixels.npy  raw pixels / 255 reduced by PCA to 50 dimensions (float32)
                            OUT/demo.npy    the demo model's fc2 outputs, L2-normalised, PCA to 50 dimensions
                            OUT/labels.npy  the classes (int64)
                            Optional N after DEMO_DIR: keep only the first N images.
  run METHOD IN.npy OUT.npy sklearn-tsne | umap-learn | umap-learn-parallel, with the benchmark's settings
                            (perplexity 30, 750 iterations, PCA start, learning rate 'auto' = N/12 in the usual
                            gradient convention; n_neighbors 15, min_dist 0.1, seeded or not). The library is imported
                            and its JIT-compiled code warmed up on 500 points before the clock starts, so only the
                            fit is timed. Prints one JSON line: {"seconds": fit time, "peak_mb": the process's max RSS}.
  score LABELS.npy IN.npy COORDS.npy...
                            One JSON line per map: the leave-one-out 10-NN majority-vote accuracy of the labels in
                            the map, and the share of each point's 10 nearest neighbours in IN that are among its
                            10 nearest in the map (kNN preservation), both exact.
"""
import gzip
import json
import os
import resource
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
FASHION = "/usr/share/datasets/fashion-mnist"


def idx_images(name):
    with gzip.open(os.path.join(FASHION, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)


def idx_labels(name):
    with gzip.open(os.path.join(FASHION, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)


def pca(x, dims):
    x = x - x.mean(0)
    cov = (x.T.astype(np.float64) @ x.astype(np.float64)) / len(x)
    values, vectors = np.linalg.eigh(cov)
    return (x @ vectors[:, ::-1][:, :dims]).astype(np.float32)


def prepare(out, demo_dir, limit=None):
    import torch
    os.makedirs(out, exist_ok=True)
    images = np.concatenate([idx_images("train-images-idx3-ubyte.gz"), idx_images("t10k-images-idx3-ubyte.gz")])
    labels = np.concatenate([idx_labels("train-labels-idx1-ubyte.gz"), idx_labels("t10k-labels-idx1-ubyte.gz")])
    if limit:
        images, labels = images[:limit], labels[:limit]
    pixels = images.reshape(len(images), -1).astype(np.float32) / 255.0
    np.save(os.path.join(out, "pixels.npy"), pca(pixels, 50))
    np.save(os.path.join(out, "labels.npy"), labels)
    model = torch.jit.load(os.path.join(demo_dir, "fashion_cnn.pt")).eval()
    sidecar = json.load(open(os.path.join(demo_dir, "fashion_cnn.json")))
    mean, std = sidecar["input"]["mean"][0], sidecar["input"]["std"][0]
    captured = []
    # fc2's output: run the classifier by hand up to fc2 (the demo model is a Sequential of Sequentials).
    with torch.no_grad():
        for b in range(0, len(images), 1000):
            x = (torch.from_numpy(images[b:b + 1000].astype(np.float32) / 255.0).unsqueeze(1) - mean) / std
            h = model.features(x)
            c = model.classifier
            h = c.fc2(c.relu5(c.fc1(c.flatten(h))))
            captured.append(h.numpy())
    feats = np.concatenate(captured)
    feats = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    np.save(os.path.join(out, "demo.npy"), pca(feats, 50))
    print(json.dumps({"images": int(len(images))}))


def run(method, src, dst):
    x = np.load(src)
    if method == "sklearn-tsne":
        from sklearn.manifold import TSNE

        def make():
            return TSNE(n_components=2, perplexity=30.0, n_iter=750, init="pca", learning_rate="auto",
                        method="barnes_hut", angle=0.5, random_state=0, n_jobs=-1)
    elif method in ("umap-learn", "umap-learn-parallel"):
        import umap

        def make():
            seeded = method == "umap-learn"
            return umap.UMAP(n_neighbors=15, min_dist=0.1, n_components=2, random_state=42 if seeded else None)
    else:
        raise SystemExit("unknown method " + method)
    make().fit_transform(np.random.RandomState(0).normal(size=(500, x.shape[1])).astype(np.float32))  # warm-up / JIT
    start = time.perf_counter()
    y = make().fit_transform(x)
    seconds = time.perf_counter() - start
    np.save(dst, np.asarray(y, dtype=np.float32))
    print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


def knn(points, k):
    from sklearn.neighbors import NearestNeighbors
    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="kd_tree" if points.shape[1] <= 3 else "brute", n_jobs=-1)
    nn.fit(points)
    _, ids = nn.kneighbors(points)
    # Drop the point itself (it may not be first when duplicates exist).
    out = np.empty((len(points), k), dtype=np.int64)
    for i, row in enumerate(ids):
        row = row[row != i][:k]
        out[i] = row
    return out


def score(labels_path, src, maps):
    labels = np.load(labels_path)
    high = knn(np.load(src).astype(np.float32), 10)
    for path in maps:
        y = np.load(path).astype(np.float64)
        low = knn(y, 10)
        votes = labels[low]
        predicted = np.array([np.bincount(v, minlength=labels.max() + 1).argmax() for v in votes])
        accuracy = float((predicted == labels).mean())
        kept = np.mean([len(np.intersect1d(a, b, assume_unique=True)) / 10.0 for a, b in zip(high, low)])
        print(json.dumps({"map": path, "accuracy": accuracy, "knn_preservation": float(kept)}))


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else None)
    elif sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
