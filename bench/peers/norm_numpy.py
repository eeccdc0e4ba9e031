"""NumPy/SciPy peer for `riesz norm`: the same weighted norms by Cholesky + triangular solves + SVD.

usage: norm_numpy.py A.npy [--domain V.npy] [--codomain W.npy] [--kind K]
K may be a comma-separated list; prints one JSON object {kind: value} per kind given.
A 1-D Gram file means a diagonal Gram matrix, as in riesz.
"""
import json
import sys

import numpy as np
from scipy.linalg import cholesky, solve_triangular


def gram_factor(path, dim):
    if path is None or path == "identity":
        return np.eye(dim)
    G = np.load(path)
    if G.ndim == 1:
        return np.diag(np.sqrt(G))
    return cholesky(G, lower=True)


def whiten(A, LV, LW):
    # M = L_Wᴴ A L_V⁻ᴴ, with A L_V⁻ᴴ = (L_V⁻¹ Aᴴ)ᴴ
    ALinvH = solve_triangular(LV, A.conj().T, lower=True).conj().T
    return LW.conj().T @ ALinvH


def main(argv):
    args = {"--domain": None, "--codomain": None, "--kind": "frobenius"}
    path = None
    i = 0
    while i < len(argv):
        if argv[i] in args:
            args[argv[i]] = argv[i + 1]
            i += 2
        else:
            path = argv[i]
            i += 1
    A = np.load(path)
    if A.ndim == 1:
        A = A[:, None]
    M = whiten(A, gram_factor(args["--domain"], A.shape[1]), gram_factor(args["--codomain"], A.shape[0]))
    print(json.dumps({kind: float(norm(M, kind)) for kind in args["--kind"].split(",")}))


def norm(M, kind):
    if kind == "frobenius":
        return np.linalg.norm(M)
    s = np.linalg.svd(M, compute_uv=False)
    if kind == "operator":
        return s[0]
    if kind == "nuclear":
        return s.sum()
    if kind.startswith("schatten:"):
        p = float(kind.split(":")[1])
        return (s**p).sum() ** (1 / p)
    raise SystemExit(f"unsupported kind {kind}")


if __name__ == "__main__":
    main(sys.argv[1:])
