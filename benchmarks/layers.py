"""Tensorized layers and exponential machines.

1. Forward + backward of a 4096 x 4096 layer ((8,8,8,8) -> (8,8,8,8), TT-rank 8),
   float32, one CPU thread, batch 256 / 32 / 1: ``nn.Linear`` (baseline), tnlib
   ``TTLinear``, tensorly-torch ``FactorizedLinear(factorization="blocktt")``
   (its TT-matrix), torchTT ``LinearLayerTT``; on TensorFlow, t3f ``KerasDense`` and tnlib's Keras
   ``TTDense``, both inside ``tf.function``.
2. digits: a TT hidden layer (8x8 -> 16x16, rank 4) and a linear head.
3. Exponential machine on breast_cancer and on the synthetic order-6 interaction
   set, with logistic regression and a random forest in the same run.
4. TT-GRU against a plain GRU on the synthetic blob-direction sequences.

Parts 2-4 run the scripts of ``examples/`` and report their accuracy and time.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import _peers  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SHAPE, RANK = (8, 8, 8, 8), 8


def _torch_candidates(batch: int) -> dict:
    import torch

    from tnlib.nn.torch import TTLinear

    x = torch.randn(batch, 4096)
    layers = {"nn.Linear": torch.nn.Linear(4096, 4096),
              "tnlib TTLinear": TTLinear(SHAPE, SHAPE, RANK)}
    try:
        import tltorch

        layers["tensorly-torch FactorizedLinear"] = tltorch.FactorizedLinear(
            SHAPE, SHAPE, factorization="blocktt", rank=RANK)
    except Exception as exc:  # noqa: BLE001 - a missing peer is reported, not fatal
        print(f"  [tensorly-torch unavailable: {exc}]")
    torchtt = _peers.load("torchtt")
    cands = {}
    for name, layer in layers.items():
        def step(layer=layer):
            layer.zero_grad(set_to_none=True)
            y = layer(x)
            y.sum().backward()
            return y
        cands[name] = step
    if torchtt:
        tl = torchtt.nn.LinearLayerTT(list(SHAPE), list(SHAPE), [1, RANK, RANK, RANK, 1])
        x5 = x.reshape(batch, *SHAPE)

        def tt_step():
            tl.zero_grad(set_to_none=True)
            y = tl(x5)
            y.sum().backward()
            return y
        cands["torchTT LinearLayerTT"] = tt_step
    return cands


def _tf_candidates(batch: int) -> dict:
    import tensorflow as tf

    from tnlib.nn.keras import TTDense

    x = tf.random.normal((batch, 4096))
    layers = {"tnlib Keras TTDense (tf.function)": TTDense(SHAPE, SHAPE, RANK)}
    t3f = _peers.load("t3f")
    if t3f:
        layers["t3f KerasDense (tf.function)"] = t3f.nn.KerasDense(
            input_dims=list(SHAPE), output_dims=list(SHAPE), tt_rank=RANK)
    def make_step(layer):
        layer(x)  # build
        # t3f 1.2 keeps its cores outside Keras' variable tracking: differentiate
        # with respect to them explicitly (captured, not passed: an argument would
        # be traced as a constant tensor)
        weights = list(layer.trainable_variables) or list(layer.matrix.tt_cores) + [layer.b]

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                y = tf.reduce_sum(layer(x))
            return [y] + tape.gradient(y, weights)
        return lambda: [g.numpy() for g in step()]

    return {name: make_step(layer) for name, layer in layers.items()}


def bench_speed(report: _harness.Report, repeats: int) -> None:
    for batch in (256, 32, 1):
        cands = {**_torch_candidates(batch), **_tf_candidates(batch)}
        res = _harness.interleaved(cands, repeats)
        for name, stats in res.items():
            report.add(f"4096x4096 fwd+bwd, rank {RANK}, batch {batch}, float32", name, stats,
                       baseline="nn.Linear")


def _one_run(seconds: float) -> dict:
    return {"median": seconds, "min": seconds, "max": seconds, "runs": 1}


def bench_examples(report: _harness.Report) -> None:
    sys.path.insert(0, str(EXAMPLES))
    import exponential_machine
    import tt_gru_sequences
    import tt_mlp_digits

    for name, r in tt_mlp_digits.run().items():
        label = "tnlib TTLinear" if name == "TT" else "nn.Linear"
        report.add("digits MLP, hidden 64 -> 256 (train)", f"{label} hidden layer",
                   _one_run(r["seconds"]), accuracy=r["accuracy"], weights=r["hidden_params"])
    for data, rows in exponential_machine.run().items():
        for name, r in rows.items():
            label = f"tnlib {name}" if name.startswith("exponential") else name
            report.add(f"{data} (fit)", label, _one_run(r["seconds"]), auc=r["auc"])
    for name, r in tt_gru_sequences.run().items():
        label = "tnlib TTGRU" if name == "TT-GRU" else "nn.GRU"
        report.add("blob-direction sequences (train)", label, _one_run(r["seconds"]),
                   accuracy=r["accuracy"], weights=r["input_map_params"])


def main(repeats: int = 7) -> None:
    _harness.configure_frameworks()
    report = _harness.Report("layers", "TT layers and exponential machines (1 CPU thread)")
    bench_speed(report, repeats)
    bench_examples(report)
    report.print()
    report.save()


if __name__ == "__main__":
    main()
