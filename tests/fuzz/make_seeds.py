#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made from real files (run by packaging/run-fuzzers.sh).

    make_seeds.py OUT_DIR [CONVSCOPE_CLI]

Writes OUT_DIR/<target>/<seed> for every target of tests/fuzz:
  idx                Fashion-MNIST's idx files (Debian dataset-fashion-mnist) cut to their first images, plain and gzip
  npy                numpy's own .npy files (versions 1.0 and 2.0, every dtype Convscope reads) and the test fixtures
  sidecar_json       the demo sidecar and the sidecars the test fixtures use
  dataset_reference  DATASET#INDEX strings as users type them
  catalogue          the `layers` and `features` columns of a real project catalogue (a small scan made with the CLI)
  index_metadata     the meta.json of a real descriptor index (made with the CLI on that project)
  model_archive      small TorchScript files saved by torch.jit (scripted, traced, deflated) and the bad-model fixtures
  onnx_model         ONNX's backend node tests (libonnx-testdata: one operator per file) and small CNNs exported by
                     torch.onnx (opsets 9/13/17, batch norm folded and kept, a channels-last input)
Seeds stay small (each under 64 KiB) so libFuzzer's mutations stay fast. Whatever is missing (no CLI, no torch,
no fixtures) is skipped with a note; hand-written seeds in the same format fill in.
"""
import gzip
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FASHION = "/usr/share/datasets/fashion-mnist"
FIXTURES = os.path.join(ROOT, "build", "fixtures")
DEBIAN_PYTHON = "/usr/bin/python3"  # Debian's python3-torch and python3-numpy
MAX_SEED = 64 * 1024


def note(text):
    print("make_seeds: " + text, file=sys.stderr)


def write(out, target, name, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED:
        return
    folder = os.path.join(out, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def idx_seeds(out):
    files = sorted(f for f in os.listdir(FASHION) if "idx" in f) if os.path.isdir(FASHION) else []
    if not files:
        note("no Fashion-MNIST idx files in " + FASHION)
    for name in files:
        path = os.path.join(FASHION, name)
        with gzip.open(path) if name.endswith(".gz") else open(path, "rb") as f:
            head = f.read(16 + 3 * 28 * 28)
        images = head[:4] == b"\x00\x00\x08\x03"
        keep = 3
        header = head[:4] + keep.to_bytes(4, "big") + (head[8:16] if images else b"")
        body = head[16:16 + keep * 784] if images else head[8:8 + keep]
        data = header + body
        base = name.replace(".gz", "")
        write(out, "idx", base, data)
        write(out, "idx", base + ".gz", gzip.compress(data, mtime=0))
        write(out, "idx", base + ".cut.gz", gzip.compress(data, mtime=0)[:-9])  # a download cut short
    write(out, "idx", "two-members.gz", gzip.compress(b"\x00\x00\x08\x01", mtime=0) +
          gzip.compress(b"\x00\x00\x00\x02\x07\x03", mtime=0))


NUMPY_SEEDS = r"""
import io, sys, numpy as np
from numpy.lib import format as fmt
out = sys.argv[1]
arrays = {"f4_2x3": np.arange(6, dtype="<f4").reshape(2, 3), "f8_col": np.ones((4, 1), "<f8"),
          "i8_scalar": np.array(7, "<i8"), "i4_empty": np.zeros((0, 5), "<i4"), "u1_img": np.zeros((2, 2, 3), "|u1"),
          "b1": np.array([True, False]), "f4_3d": np.zeros((1, 2, 3), "<f4"), "big_endian": np.ones(3, ">f4"),
          "fortran": np.asfortranarray(np.ones((2, 3), "<f4")), "structured": np.zeros(2, "i4,f4")}
for name, a in arrays.items():
    for version in [(1, 0), (2, 0)]:
        b = io.BytesIO()
        fmt.write_array(b, a, version=version)
        open("%s/%s.v%d.npy" % (out, name, version[0]), "wb").write(b.getvalue())
"""


def npy_seeds(out):
    folder = os.path.join(out, "npy")
    os.makedirs(folder, exist_ok=True)
    if subprocess.run([DEBIAN_PYTHON, "-c", NUMPY_SEEDS, folder]).returncode != 0:
        note("numpy did not write .npy seeds")
    for d in [os.path.join(FIXTURES, "npy"), os.path.join(FIXTURES, "demo")]:
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if name.endswith(".npy"):
                with open(os.path.join(d, name), "rb") as f:
                    write(out, "npy", "fixture-" + name, f.read())


def sidecar_seeds(out):
    sources = [os.path.join(ROOT, "resources", "demo", "fashion_cnn.json"), os.path.join(FIXTURES, "photos64.json"),
               os.path.join(FIXTURES, "models", "rgb_sidecar.json")]
    recon = os.path.join(FIXTURES, "recon")
    if os.path.isdir(recon):
        sources += [os.path.join(recon, n) for n in sorted(os.listdir(recon)) if n.endswith(".json")]
    seen = set()
    for path in sources:
        if os.path.isfile(path):
            with open(path, "rb") as f:
                data = f.read()
            if data not in seen:
                seen.add(data)
                write(out, "sidecar_json", os.path.basename(path), data)
    write(out, "sidecar_json", "labels_file.json", '{"input": {"channels": 1}, "labels_file": "labels.txt"}')
    write(out, "sidecar_json", "scalar_mean.json", '{"input": {"mean": 0.5, "std": 0.25, "resize": "pad", '
          '"resize_to": 300, "range": 255}}')


def reference_seeds(out):
    refs = [FASHION + "/t10k-images-idx3-ubyte.gz#42", FASHION + "#69999", "photos/#3", "a#b#7", "data.gz#0",
            "x#", "#5", "cat.jpg", FASHION + "/train-images-idx3-ubyte.gz#007"]
    for i, r in enumerate(refs):
        write(out, "dataset_reference", "ref%d" % i, r)


def demo_project(cli, work):
    """A 64-image scan of the demo model and a small index, made by the CLI; the project folder, or None."""
    if not cli or not os.access(cli, os.X_OK):
        note("no CLI given or built: catalogue and index seeds are hand-written only")
        return None
    project = os.path.join(work, "project")
    model = os.path.join(ROOT, "resources", "demo", "fashion_cnn.pt")
    dataset = FASHION + "/t10k-images-idx3-ubyte.gz"
    steps = [[cli, "scan", model, dataset, "--project", project, "--limit", "64"],
             [cli, "index", project, "--layer", "classifier.fc2", "--pca", "8"],
             [cli, "index", project, "--layer", "features.conv4", "--descriptor", "mac", "--pca", "0",
              "--metric", "cosine", "--name", "conv4-mac"]]
    for step in steps:
        if subprocess.run(step, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            note("'%s' failed: seeds from it are skipped" % " ".join(step[1:3]))
            break
    return project


def catalogue_seeds(out, project):
    catalog = os.path.join(project, "catalog.sqlite") if project else ""
    if os.path.isfile(catalog):
        with sqlite3.connect(catalog) as db:
            for i, (layers, features) in enumerate(db.execute("SELECT layers, features FROM scans")):
                as_bytes = [c if isinstance(c, bytes) else str(c).encode() for c in (layers, features)]
                write(out, "catalogue", "scan%d" % i, as_bytes[0] + b"\n" + as_bytes[1])
    write(out, "catalogue", "handwritten", json.dumps({"layers": ["features.conv1", "layer1.0.relu#2"],
                                                        "channels": [32, 64]}, separators=(",", ":")) + "\n" +
          json.dumps([{"name": "classifier.fc1", "layer": "classifier.fc1", "dims": 128},
                      {"name": "features:avg", "layer": "features", "dims": 64}], separators=(",", ":")))


def topk_seeds(out, project):
    """Top-k records (TopKRecords): the demo scan's final rankings (2 bytes first: trackers, k), and handwritten
    accepted entries (tracker u32, channel u32, image i64, value f32, y i32, x i32)."""
    catalog = os.path.join(project, "catalog.sqlite") if project else ""
    if os.path.isfile(catalog):
        with sqlite3.connect(catalog) as db:
            for layer, ranking, blob in db.execute("SELECT layer, ranking, entries FROM topk_records LIMIT 4"):
                write(out, "topk_records", "top%d-%d" % (layer, ranking), bytes([4, 9]) + bytes(blob)[:20 * 9 * 4])
    else:
        note("no real top-k records (see above)")
    accepted = b"".join(struct.pack("<IIqfii", t, c, i, v, y, x)
                        for t, c, i, v, y, x in [(0, 3, 17, 2.5, 4, 5), (1, 0, 1 << 40, -1.0, -1, -1),
                                                 (3, 70000, 2, float("nan"), 0, 0)])
    write(out, "topk_records", "accepted", bytes([4, 9]) + accepted)


def index_seeds(out, project):
    found = 0
    for name in sorted(os.listdir(project)) if project and os.path.isdir(project) else []:
        meta = os.path.join(project, name, "meta.json")
        if name.startswith("index-") and os.path.isfile(meta):
            with open(meta, "rb") as f:
                write(out, "index_metadata", name, f.read())
            found += 1
    write(out, "index_metadata", "handwritten", json.dumps(
        {"name": "fc2-fc-128", "layer": "classifier.fc2", "descriptor": "fc", "scan": 1, "features": "/p/scan-1/f.npy",
         "model": "/m.pt", "dataset": "/d", "metric": "l2", "index": "exact", "size": 10, "dims": 8,
         "created": "2026-11-29T10:00:00.000Z", "added": ["/photos/cat.jpg"]}, indent=4))
    if not found:
        note("no real index metadata (see above)")


TORCH_SEEDS = r"""
import sys, torch
out = sys.argv[1]
torch.manual_seed(0)
conv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8, 2))
torch.jit.script(conv).save(out + "/scripted.pt")
torch.jit.trace(conv, torch.zeros(1, 1, 4, 4)).save(out + "/traced.pt")
torch.jit.script(torch.nn.Identity()).save(out + "/identity.pt")
torch.save(conv.state_dict(), out + "/state_dict.pt")
"""


def archive_seeds(out):
    folder = os.path.join(out, "model_archive")
    os.makedirs(folder, exist_ok=True)
    if subprocess.run([DEBIAN_PYTHON, "-c", TORCH_SEEDS, folder], stderr=subprocess.DEVNULL).returncode != 0:
        note("python3-torch did not save the seed models")
    scripted = os.path.join(folder, "scripted.pt")
    if os.path.isfile(scripted):  # the same archive with every record deflated: exercises the inflating CRC check
        buffer = io.BytesIO()
        with zipfile.ZipFile(scripted) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info.filename))
        write(out, "model_archive", "deflated.pt", buffer.getvalue())
        with open(scripted, "rb") as f:
            data = f.read()
        write(out, "model_archive", "truncated.pt", data[: len(data) * 2 // 3])
    for name in ["vector.pt", "string_input.pt", "state_dict.pt", "text.pt"]:
        path = os.path.join(FIXTURES, "models", name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                write(out, "model_archive", "fixture-" + name, f.read())


ONNX_TESTDATA = "/usr/share/libonnx-testdata/data/node"
ONNX_SEEDS = r"""
import os, sys, torch
folder = sys.argv[1]
class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.act = torch.nn.Hardswish()
        self.pool = torch.nn.MaxPool2d(2, ceil_mode=True)
        self.fc = torch.nn.Linear(4 * 4 * 4, 5)
    def forward(self, x):
        x = self.pool(self.act(self.bn(self.conv(x))))
        return self.fc(torch.flatten(x, 1)).softmax(1)
class ChannelsLast(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Small()
    def forward(self, x):
        return self.inner(x.permute(0, 3, 1, 2))
torch.manual_seed(0)
model = Small().eval()
x = torch.randn(1, 3, 8, 8)
axes = {"input": {0: "batch"}}
for opset in (9, 13, 17):
    torch.onnx.export(model, x, os.path.join(folder, "small.opset%d.onnx" % opset), opset_version=opset,
                      input_names=["input"], dynamic_axes=axes)
torch.onnx.export(model, x, os.path.join(folder, "small.bn.onnx"), opset_version=13, input_names=["input"],
                  training=torch.onnx.TrainingMode.PRESERVE)
torch.onnx.export(ChannelsLast().eval(), x.permute(0, 2, 3, 1), os.path.join(folder, "small.nhwc.onnx"),
                  opset_version=13, input_names=["input"])
"""


def onnx_seeds(out):
    folder = os.path.join(out, "onnx_model")
    os.makedirs(folder, exist_ok=True)
    if subprocess.run([DEBIAN_PYTHON, "-c", ONNX_SEEDS, folder], stderr=subprocess.DEVNULL).returncode != 0:
        note("python3-torch did not export the ONNX seed models")
    cases = sorted(os.listdir(ONNX_TESTDATA)) if os.path.isdir(ONNX_TESTDATA) else []
    if not cases:
        note("no libonnx-testdata: ONNX seeds from torch.onnx only")
    for case in cases:
        path = os.path.join(ONNX_TESTDATA, case, "model.onnx")
        if os.path.isfile(path):
            with open(path, "rb") as f:
                write(out, "onnx_model", "node-" + case + ".onnx", f.read())


def main():
    out = sys.argv[1]
    cli = sys.argv[2] if len(sys.argv) > 2 else ""
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    idx_seeds(out)
    npy_seeds(out)
    sidecar_seeds(out)
    reference_seeds(out)
    with tempfile.TemporaryDirectory() as work:
        project = demo_project(cli, work)
        catalogue_seeds(out, project)
        topk_seeds(out, project)
        index_seeds(out, project)
    archive_seeds(out)
    onnx_seeds(out)
    for target in sorted(os.listdir(out)):
        note("%-18s %3d seeds" % (target, len(os.listdir(os.path.join(out, target)))))


if __name__ == "__main__":
    main()
