"""The layer examples against PyTorch (outside CI: PyTorch is not a
dependency).

    pip install torch        # CPU is enough
    python bench/torch_layers.py

Builds each example of problems/ that uses the layers' functions again in
PyTorch's own modules (nn.BatchNorm1d in training mode, nn.LayerNorm,
nn.functional.softmax, nn.Embedding, inverted dropout by its mask, conv2d),
in float64, runs autograd with the example's upstream gradient, and prints
the largest difference from stepsolver's exact values and gradients.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
torch.set_default_dtype(torch.float64)


def solved(name: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "stepsolver", "solve", os.path.join(ROOT, "problems", f"{name}.toml"),
                          "-f", "json"], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return {n["name"]: n for n in json.loads(out)["nodes"]}


def t(x):
    return torch.tensor(x, requires_grad=True)


def diff(name, nodes, tensors):
    worst = 0.0
    for key, tensor in tensors.items():
        node = nodes[key]
        worst = max(worst, float((tensor.detach() - torch.tensor(node["value"]["value"])).abs().max()))
        if tensor.grad is not None and node["grad"] is not None:
            worst = max(worst, float((tensor.grad - torch.tensor(node["grad"]["value"])).abs().max()))
    print(f"{name:32s} largest difference from PyTorch (float64): {worst:.2e}")
    return worst


def batchnorm():
    n = solved("graph_batchnorm")
    X, gamma, beta = t(n["X"]["value"]["value"]), t(n["gamma"]["value"]["value"]), t(n["beta"]["value"]["value"])
    bn = torch.nn.BatchNorm1d(2, eps=1e-5, affine=True)
    bn.train()
    with torch.no_grad():
        bn.weight.copy_(gamma[0])
        bn.bias.copy_(beta[0])
    Y = bn(X)
    Y.retain_grad()
    T = torch.tensor(n["T"]["value"]["value"])
    L = ((Y - T) ** 2).sum() / 2
    L.backward()
    gamma.grad, beta.grad = bn.weight.grad.reshape(1, -1), bn.bias.grad.reshape(1, -1)
    return diff("batch norm (nn.BatchNorm1d)", n, {"X": X, "Y": Y, "gamma": gamma, "beta": beta})


def layernorm():
    n = solved("graph_layernorm")
    x = t(n["x"]["value"]["value"])
    ln = torch.nn.LayerNorm(4, eps=1e-5)
    y = ln(x)
    y.retain_grad()
    y.backward(torch.tensor([[1.0, 0.0, -1.0, 2.0]]))
    gamma, beta = t(n["gamma"]["value"]["value"]), t(n["beta"]["value"]["value"])
    gamma.grad, beta.grad = ln.weight.grad.reshape(1, -1), ln.bias.grad.reshape(1, -1)
    return diff("layer norm (nn.LayerNorm)", n, {"x": x, "y": y, "gamma": gamma, "beta": beta})


def attention():
    n = solved("graph_attention")
    X = torch.tensor(n["X"]["value"]["value"])
    Wq, Wk, Wv = (t(n[k]["value"]["value"]) for k in ("Wq", "Wk", "Wv"))
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    Z = Q @ K.T / 2 ** 0.5
    S = torch.nn.functional.softmax(Z, dim=1)
    O = S @ V
    for m in (Z, S, O):
        m.retain_grad()
    O.backward(torch.tensor([[1.0, 0.0], [0.0, -1.0]]))
    return diff("attention (F.softmax)", n, {"Wq": Wq, "Wk": Wk, "Wv": Wv, "Z": Z, "S": S, "O": O})


def embedding():
    n = solved("graph_embedding")
    W = n["W"]["value"]["value"]
    emb = torch.nn.Embedding(len(W), len(W[0]))
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(W))
    E = emb(torch.tensor([1, 0, 1, 2]))
    E.retain_grad()
    M = torch.tensor(n["M"]["value"]["value"])
    Y = E * M / (1 - 0.5)  # inverted dropout with the example's mask
    Y.retain_grad()
    L = (Y * Y).sum() / 2
    L.backward()
    Wt = emb.weight.detach().clone()
    Wt.grad = emb.weight.grad
    return diff("embedding + dropout (nn.Embedding)", n, {"W": Wt, "E": E, "Y": Y})


def conv_not_tiling():
    n = solved("graph_conv_not_tiling")
    X, K = t(n["X"]["value"]["value"]), t(n["K"]["value"]["value"])
    Y = torch.nn.functional.conv2d(X[None, None], K[None, None], stride=2)[0, 0]
    Y.retain_grad()
    L = (Y * Y).sum() / 2
    L.backward()
    return diff("conv2d, stride 2, not tiling", n, {"X": X, "K": K, "Y": Y})


if __name__ == "__main__":
    worst = max(f() for f in (batchnorm, layernorm, attention, embedding, conv_not_tiling))
    print(f"largest over the examples: {worst:.2e}")
