"""NumPy/SciPy peer for bench/norms: weighted Frobenius-type and operator norms of A (n×n) with dense
Gram matrices V, W, the standard way: Cholesky of V and W, a triangular solve, a product, then the
Frobenius norm or the largest singular value from a full SVD.

usage: norms_numpy.py DIR REPEATS   (DIR holds A_n.npy, V_n.npy, W_n.npy for each n in sizes.txt)
Prints one JSON object: {n: {"frobenius": [seconds...], "operator": [...], "values": {...}}}.
"""
import json
import sys
import time

import numpy as np
from scipy.linalg import cholesky, solve_triangular


def whiten(A, V, W):
    LV = cholesky(V, lower=True)
    LW = cholesky(W, lower=True)
    return LW.T @ solve_triangular(LV, A.T, lower=True).T


def frobenius(A, V, W):
    return np.linalg.norm(whiten(A, V, W))


def operator(A, V, W):
    return np.linalg.svd(whiten(A, V, W), compute_uv=False)[0]


def main(folder, repeats):
    sizes = [int(s) for s in open(f"{folder}/sizes.txt").read().split()]
    out = {}
    for n in sizes:
        A, V, W = (np.load(f"{folder}/{x}_{n}.npy") for x in "AVW")
        res = {"values": {}}
        for name, f in (("frobenius", frobenius), ("operator", operator)):
            f(A, V, W)  # warm-up
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                v = f(A, V, W)
                times.append(time.perf_counter() - t)
            res[name] = times
            res["values"][name] = float(v)
        out[n] = res
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
