"""A tiny training script for the git-train demo: no dependencies.

Fits y = 3x + 1 with gradient descent on synthetic data, prints one line per
epoch, writes the model to outputs/ and its metrics to metrics.json, the two
things git-train collects after a run.
"""
import argparse
import json
import os
import random

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
if args.epochs < 1:
    parser.error("--epochs must be at least 1")

rng = random.Random(args.seed)
data = [(x, 3 * x + 1 + rng.gauss(0, 0.1)) for x in (rng.uniform(-1, 1) for _ in range(256))]
w, b = 0.0, 0.0
for epoch in range(1, args.epochs + 1):
    gw = sum((w * x + b - y) * x for x, y in data) * 2 / len(data)
    gb = sum((w * x + b - y) for x, y in data) * 2 / len(data)
    w, b = w - args.lr * gw, b - args.lr * gb
    loss = sum((w * x + b - y) ** 2 for x, y in data) / len(data)
    print(f"epoch {epoch}/{args.epochs}  loss={loss:.4f}  w={w:.3f}  b={b:.3f}", flush=True)

os.makedirs("outputs", exist_ok=True)
with open("outputs/model.json", "w") as f:
    json.dump({"w": w, "b": b}, f)
with open("metrics.json", "w") as f:
    json.dump({"loss": round(loss, 6), "epochs": args.epochs}, f)
