#!/usr/bin/python3
"""Plain numpy/BLAS brute-force 10-NN (squared L2 via precomputed norms and one matrix-vector product per query,
then argpartition + sort), one query at a time, over the database and queries Convscope's SearchBench wrote.
Prints JSON: median milliseconds per query and the ids found (to check they equal Convscope's).

Usage: /usr/bin/python3 search_reference.py DB.npy QUERIES.npy K
"""
import json
import sys
import time

import numpy as np


def main():
    db = np.load(sys.argv[1])
    queries = np.load(sys.argv[2])
    k = int(sys.argv[3])
    norms = (db * db).sum(1)
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        d = norms - 2.0 * (db @ q)
        part = np.argpartition(d, k)[:k]
        top = part[np.argsort(d[part])]
        times.append(time.perf_counter() - t0)
        found.append(top.tolist())
    times.sort()
    print(json.dumps({"ms": 1000 * times[len(times) // 2], "ids": found}))


if __name__ == "__main__":
    main()
