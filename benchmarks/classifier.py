"""The flow's generative classifier against a small CNN, on the same MNIST-5k digits.

    OMP_NUM_THREADS=1 python benchmarks/classifier.py [--write-weights]

Both learn from the same 4,000 training digits, both choose on the same 500 validation digits
(the flow its design and epoch, ``nvp/weights/README.md``; the CNN its epoch), and the 500 test
digits are scored once. Prints accuracy, confidence and calibration (expected calibration error,
10 bins), the time to train and to classify, the bits/dim of the digits each gets wrong, and how
many of 16 samples per label at T = 0.7 from the conditional flow each classifier names as the
requested digit. ``--write-weights`` writes the CNN to ``nvp/weights/mnist5k_cnn.pt``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

import nvp
from nvp.book.classifier import fit_feature_gaussians, predict_proba, train_classifier
from nvp.training import Config, load_data
from nvp.training.checkpoint import save_checkpoint
from nvp.training.evaluate import class_log_likelihoods, image_bits_per_dim


def calibration(proba: torch.Tensor, labels: torch.Tensor, bins: int = 10) -> dict:
    conf, pred = proba.max(1)
    right = (pred == labels).double()
    ece = 0.0
    for b in range(bins):
        inside = (conf > b / bins) & (conf <= (b + 1) / bins)
        if inside.any():
            ece += inside.double().mean().item() * abs(right[inside].mean().item()
                                                       - conf[inside].double().mean().item())
    return {"accuracy": right.mean().item(), "ece": ece,
            "confidence_right": conf[right.bool()].double().mean().item(),
            "confidence_wrong": conf[~right.bool()].double().mean().item()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--write-weights", action="store_true")
    p.add_argument("--out", default="benchmarks/classifier.json")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    config = Config()  # the split the flows were trained and chosen on
    train, valid, test = (load_data(config, s, labels=True) for s in ("train", "valid", "test"))

    cnn, record = train_classifier(train, valid)
    start = time.perf_counter()
    cnn_proba = predict_proba(cnn, test[0])
    cnn_seconds = time.perf_counter() - start
    record.update(test=calibration(cnn_proba, test[1]), classify_seconds=cnn_seconds,
                  params=sum(p.numel() for p in cnn.parameters()))
    if args.write_weights:
        gaussians = fit_feature_gaussians(cnn).state()  # what recognisable() compares with
        save_checkpoint({"model": cnn.state_dict(), "record": record,
                         "feature_gaussians": gaussians}, "nvp/weights/mnist5k_cnn.pt")

    flow = nvp.pretrained("mnist5k-cond")
    start = time.perf_counter()
    ll = class_log_likelihoods(flow, test[0])  # (500, 10) nats: the classifier's only input
    flow_seconds = time.perf_counter() - start
    flow_proba = torch.softmax(ll, dim=1).float()  # p(y | x) with a uniform p(y)
    plain = nvp.pretrained("mnist5k")
    bpd = image_bits_per_dim(plain, test[0])  # unconditional bits/dim of each test digit
    flow_wrong = flow_proba.argmax(1) != test[1]
    cnn_wrong = cnn_proba.argmax(1) != test[1]

    counts = {}
    gen = torch.Generator().manual_seed(0)
    for label in range(10):
        x = flow.sample(16, temperature=0.7, y=label, generator=gen)
        x = (x * 255).round() / 255  # 8-bit images, as the classifiers were trained on
        counts[label] = {"cnn": int((predict_proba(cnn, x).argmax(1) == label).sum()),
                         "flow": int((class_log_likelihoods(flow, x).argmax(1) == label).sum())}

    result = {
        "machine": f"{platform.processor() or platform.machine()}, "
                   f"{os.cpu_count()} cores, torch {torch.__version__}, "
                   f"OMP threads {torch.get_num_threads()}, load {os.getloadavg()}",
        "cnn": record,
        "flow": {"test": calibration(flow_proba, test[1]), "classify_seconds": flow_seconds,
                 "train": nvp.pretrained_info("mnist5k-cond")["recipe"]["time"]},
        "bits_per_dim": {"all": bpd.mean().item(),
                         "flow_wrong": bpd[flow_wrong].mean().item(),
                         "flow_right": bpd[~flow_wrong].mean().item(),
                         "cnn_wrong": bpd[cnn_wrong].mean().item()},
        "samples_named": counts,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
