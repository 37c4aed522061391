"""What pretraining and fine-tuning share: the training loop, optimisers and the learning-rate schedule, checkpoints
with exact resume, data-parallel training under torchrun, and progress bars.

    loop.py          the loop itself: steps, evaluation, checkpoints, resume, autocast, DDP, for any objective
    optim.py         LAMB (written out), AdamW, warm-up then linear decay
    checkpoints.py   atomic checkpoints and an exact resume
    distributed.py   DistributedDataParallel under torchrun (gloo on CPU, nccl on GPU)
    progress.py      tqdm bars that can be switched off
"""
