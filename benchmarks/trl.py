"""Tensor regression layer, forward + backward: tnlib's ``TRL`` (torch) against
tensorly-torch's ``TRL``.

An activation of shape (64, 8, 8) to 10 outputs (the head of a small CNN), float32, one
thread, batch 256 / 32, Tucker ranks (16, 4, 4, 10) and CP rank 32 for both libraries
(the same parameter count). ``nn.Linear`` on the flattened activation is the dense
reference. Then a large activation, (256, 16, 16) to 100 at Tucker ranks (32, 8, 8, 16),
batch 64, where the dense weight has 6.6 M entries.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402

SHAPE, OUT = (64, 8, 8), 10
RANKS = {"tucker": (16, 4, 4, 10), "cp": 32}


def _step(layer, x):
    def run():
        layer.zero_grad(set_to_none=True)
        y = layer(x)
        y.sum().backward()
        return y
    return run


def main(repeats: int = 7) -> _harness.Report:
    _harness.configure_frameworks()
    import torch

    from tnlib.nn.torch import TRL

    report = _harness.Report("trl", "Tensor regression layer (64, 8, 8) -> 10, float32, "
                                    "forward + backward")
    tltorch = _peers.load("tltorch")
    for batch in (256, 32):
        torch.manual_seed(0)
        x = torch.randn(batch, *SHAPE)
        for fact, rank in RANKS.items():
            layer = TRL(SHAPE, OUT, rank, factorization=fact)
            cands = {f"tnlib TRL {fact}": _step(layer, x)}
            params = {f"tnlib TRL {fact}": sum(p.numel() for p in layer.parameters())}
            if tltorch is not None:
                peer = tltorch.TRL(SHAPE, (OUT,), factorization=fact, rank=rank, bias=True)
                cands[f"tensorly-torch TRL {fact}"] = _step(peer, x)
                params[f"tensorly-torch TRL {fact}"] = sum(p.numel() for p in peer.parameters())
            dense = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64 * 8 * 8, OUT))
            cands["nn.Linear (dense)"] = _step(dense, x)
            params["nn.Linear (dense)"] = sum(p.numel() for p in dense.parameters())
            timing = _harness.interleaved(cands, repeats)
            for key, stats in timing.items():
                report.add(f"batch {batch}, {fact}", key, stats,
                           baseline=f"tensorly-torch TRL {fact}" if tltorch else None,
                           params=params[key])
    # a large activation: (256, 16, 16) -> 100, Tucker ranks (32, 8, 8, 16), batch 64
    torch.manual_seed(0)
    x = torch.randn(64, 256, 16, 16)
    layer = TRL((256, 16, 16), 100, (32, 8, 8, 16))
    cands = {"tnlib TRL tucker": _step(layer, x)}
    params = {"tnlib TRL tucker": sum(p.numel() for p in layer.parameters())}
    if tltorch is not None:
        peer = tltorch.TRL((256, 16, 16), (100,), factorization="tucker",
                           rank=(32, 8, 8, 16), bias=True)
        cands["tensorly-torch TRL tucker"] = _step(peer, x)
        params["tensorly-torch TRL tucker"] = sum(p.numel() for p in peer.parameters())
    timing = _harness.interleaved(cands, repeats)
    for key, stats in timing.items():
        report.add("(256, 16, 16) -> 100, batch 64, tucker", key, stats,
                   baseline="tensorly-torch TRL tucker" if tltorch else None,
                   params=params[key])
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
