#!/usr/bin/python3
"""scikit-learn's time for the probes ProbeBench trains: LogisticRegression (lbfgs) on standardised features, as
most users run it (max_iter=100, its default) and to convergence (max_iter=10000), on the files ProbeBench wrote.

Usage: /usr/bin/python3 probe_reference.py DIR    (DIR/x_train.npy, y_train.npy, x_test.npy, y_test.npy)
Prints one JSON line: seconds, iterations and test accuracy for each setting (fit time only, scaling excluded).
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

warnings.simplefilter("ignore", ConvergenceWarning)
d = sys.argv[1]
x_train, y_train = np.load(d + "/x_train.npy").astype(np.float64), np.load(d + "/y_train.npy")
x_test, y_test = np.load(d + "/x_test.npy").astype(np.float64), np.load(d + "/y_test.npy")
scaler = StandardScaler().fit(x_train)
x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
out = {}
for name, max_iter in (("default", 100), ("converged", 10000)):
    model = LogisticRegression(max_iter=max_iter)
    start = time.perf_counter()
    model.fit(x_train, y_train)
    out[name] = {"seconds": time.perf_counter() - start, "iterations": int(model.n_iter_[0]),
                 "accuracy": float((model.predict(x_test) == y_test).mean())}
print(json.dumps(out))
