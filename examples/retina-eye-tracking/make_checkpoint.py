"""Write retina.ckpt as PyTorch Lightning's ModelCheckpoint writes it, without Lightning.

A Lightning checkpoint is a dict: the module's `state_dict` under the key "state_dict", beside
the training's bookkeeping (epoch, global_step, the Lightning version, loops, callbacks, the
optimizers' and schedulers' states). Here the weights are a fixed random initialisation (seed 0)
and the BatchNorm affine parameters random stand-ins for trained ones; a few training-mode
batches give the BatchNorms non-trivial running statistics, and one Adam step gives the
optimizer a state, as after training. Deterministic:

    python make_checkpoint.py
"""

from __future__ import annotations

from pathlib import Path

import torch
from model import BATCH_SIZE, INPUT_SHAPE, OUTPUT_DIM, EyeTrackingModule
from torch import nn

HERE = Path(__file__).resolve().parent
CHECKPOINT = HERE / "retina.ckpt"
TIME_STEPS = 2


def train() -> tuple[EyeTrackingModule, torch.optim.Optimizer]:
    """The module as the checkpoint holds it (eval mode), and its optimizer."""
    torch.manual_seed(0)
    module = EyeTrackingModule()
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            nn.init.uniform_(bn.weight, 0.5, 1.5)
            nn.init.normal_(bn.bias, 0.0, 0.1)
    module.train()
    optimizer = torch.optim.Adam((p for p in module.parameters() if p.requires_grad), lr=1e-3)
    for _ in range(3):
        events = torch.rand(BATCH_SIZE * TIME_STEPS, *INPUT_SHAPE).lt(0.2).float() * 4
        out = module(events)
        assert out.shape == (BATCH_SIZE * TIME_STEPS, OUTPUT_DIM), out.shape
        loss = (out.float() - 1).pow(2).mean() + sum(p.pow(2).sum() for p in module.parameters()) * 1e-4
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        for layer in module.modules():  # as sinabs training loops do between batches
            for buffer in layer.buffers(recurse=False):
                buffer.detach_()
    return module.eval(), optimizer


def checkpoint(module: EyeTrackingModule, optimizer: torch.optim.Optimizer) -> dict:
    """The dict Lightning's `Trainer.save_checkpoint` writes (its top-level keys)."""
    return {
        "epoch": 41,
        "global_step": 12_348,
        "pytorch-lightning_version": "2.2.1",
        "state_dict": module.state_dict(),
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 42,
                                                                               "completed": 41}}}},
        "callbacks": {"ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}": {
            "best_model_score": torch.tensor(0.0173), "best_model_path": "checkpoints/retina.ckpt"}},
        "optimizer_states": [optimizer.state_dict()],
        "lr_schedulers": [{"step_size": 20, "gamma": 0.5, "base_lrs": [1e-3], "last_epoch": 41,
                           "_last_lr": [2.5e-4]}],
    }


def main() -> None:
    module, optimizer = train()
    torch.save(checkpoint(module, optimizer), CHECKPOINT)
    print(f"wrote {CHECKPOINT.name}: {len(module.state_dict())} tensors under 'state_dict'")


if __name__ == "__main__":
    main()
