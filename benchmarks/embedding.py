"""TT embeddings: tnlib's ``TTEmbedding`` against tensorly-torch's ``FactorizedEmbedding``.

A 10^6 x 256 table at TT-rank 32, float32, one CPU thread: forward and backward of a
batch of 12,800 indices (50 sequences of 256 tokens, uniform over the vocabulary), and
of one sequence (256 indices: tnlib then runs its per-index chain, no merged block).
Both TT layers get the same factorizations, ``(100, 100, 100) x (8, 4, 8)`` (tnlib's
default) and ``(100, 100, 100) x (8, 8, 4)`` (the order tensorly-torch's own
factorization gives), so they hold the same parameters; ``nn.Embedding`` (dense
gradient, and ``sparse=True``) is the uncompressed reference. ``params`` counts the
trainable numbers; ``rel_err`` is the largest difference of the TT layers' rows from
the rows of the same table formed densely, relative to its largest entry.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import torch  # noqa: E402

from tnlib.nn.torch import TTEmbedding  # noqa: E402

V, D, R, BATCH = 10**6, 256, 32, 256 * 50
VOC = (100, 100, 100)


def _step(layer, idx):
    def run():
        layer.zero_grad(set_to_none=True)
        out = layer(idx)
        out.sum().backward()
        return out
    return run


def _row_error(layer, cores, idx) -> float:
    """The rows of a whole batch (the lookup's route for its size) against the dense table
    of the same cores (einsum over the TT-matrix)."""
    with torch.no_grad():
        table = cores[0]
        for c in cores[1:]:
            table = torch.einsum("...a,aijb->...ijb", table, c)
        # (1, v1, e1, v2, e2, v3, e3, 1) -> (v1 v2 v3, e1 e2 e3)
        table = table.squeeze(0).squeeze(-1).permute(0, 2, 4, 1, 3, 5).reshape(-1, D)
        want = table[idx]
        return float((layer(idx) - want).abs().max() / want.abs().max())


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("embedding", f"TT embedding {V} x {D}, rank {R}, "
                                          "forward + backward")
    torch.manual_seed(0)
    full = torch.randint(0, V, (BATCH,))
    try:
        import tltorch
    except Exception as exc:  # noqa: BLE001 - a missing peer is reported, not fatal
        print(f"  [tensorly-torch unavailable: {exc}]")
        tltorch = None
    for emb, batch in (((8, 4, 8), BATCH), ((8, 8, 4), BATCH), ((8, 4, 8), 256)):
        workload = f"{VOC} x {emb}, {batch} indices"
        idx = full[:batch]
        layers = {"tnlib TTEmbedding": TTEmbedding(V, D, R, voc_shape=VOC, emb_shape=emb)}
        cores = {"tnlib TTEmbedding": lambda layer: list(layer.cores)}
        if tltorch is not None:
            layers["tensorly-torch FactorizedEmbedding"] = tltorch.FactorizedEmbedding(
                V, D, auto_tensorize=False, tensorized_num_embeddings=VOC,
                tensorized_embedding_dim=emb, factorization="blocktt", rank=R)
            cores["tensorly-torch FactorizedEmbedding"] = lambda layer: list(
                layer.weight.factors)
        timing = _harness.interleaved({k: _step(v, idx) for k, v in layers.items()}, repeats)
        for key, stats in timing.items():
            layer = layers[key]
            report.add(workload, key, stats, baseline="tensorly-torch FactorizedEmbedding"
                       if tltorch is not None else None,
                       params=sum(p.numel() for p in layer.parameters()),
                       rel_err=_row_error(layer, cores[key](layer), idx))
    dense = {"nn.Embedding": torch.nn.Embedding(V, D),
             "nn.Embedding(sparse=True)": torch.nn.Embedding(V, D, sparse=True)}
    timing = _harness.interleaved({k: _step(v, full) for k, v in dense.items()}, repeats)
    for key, stats in timing.items():
        report.add(f"dense reference, {BATCH} indices", key, stats,
                   params=sum(p.numel() for p in dense[key].parameters()))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
