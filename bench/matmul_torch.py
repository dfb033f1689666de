#!/usr/bin/env python3
"""PyTorch CPU counterpart of bench/matmul.ts: same GPT-2 shapes, same table.

    /usr/bin/python3 bench/matmul_torch.py [--reps 5] [--threads 1,2] [--vocab-chunk 8192]
"""
import argparse
import ctypes
import ctypes.util
import os
import platform
import statistics
import time

import torch


def gpt2_shapes(vocab_chunk):
    # (label, M, N, K, transA, transB) — keep in step with bench/matmul-shapes.ts
    return [
        ("attn.c_proj fwd Y=X@W", 1024, 768, 768, False, False),
        ("mlp.c_fc fwd Y=X@W", 1024, 3072, 768, False, False),
        ("mlp.c_proj fwd Y=X@W", 1024, 768, 3072, False, False),
        (f"lm_head fwd X@wte^T ({vocab_chunk} of 50257)", 1024, vocab_chunk, 768, False, True),
        ("mlp.c_proj bwd dX=dY@W^T", 1024, 3072, 768, False, True),
        ("mlp.c_fc bwd dW=X^T@dY", 768, 3072, 1024, True, False),
    ]


def openblas_thread_setter():
    """torch.set_num_threads sizes torch's own OpenMP pool only; a torch built on
    system BLAS (Debian's) runs sgemm in OpenBLAS's separate pool, which is what
    must be sized. Returns its setter, or None when torch's pool is the one."""
    for name in ("libopenblas.so.0", ctypes.util.find_library("openblas")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            return lib.openblas_set_num_threads
        except (OSError, AttributeError):
            continue
    return None


def describe(M, N, K, ta, tb):
    a = f"({K}x{M})T" if ta else f"{M}x{K}"
    b = f"({N}x{K})T" if tb else f"{K}x{N}"
    return f"{a} @ {b}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--vocab-chunk", type=int, default=8192)
    args = p.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    set_blas_threads = openblas_thread_setter()

    def set_threads(t):
        if set_blas_threads is None:
            torch.set_num_threads(t)
        else:
            # Matmul threads = OpenBLAS threads; torch's own OpenMP pool stays at 1 so
            # its idle threads do not spin on the cores OpenBLAS is using (measured: at
            # 2+2 threads on 2 cores torch's mm ran at about half speed).
            torch.set_num_threads(1)
            set_blas_threads(t)

    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, reps={args.reps} (median), "
          f"load average {os.getloadavg()[0]:.2f}, OpenBLAS threads "
          f"{'= threads (torch intra-op 1)' if set_blas_threads else 'not found: threads = torch.set_num_threads'}")
    print("| op | shape | backend | threads | median ms | GFLOP/s |\n|---|---|---|---|---|---|")
    g = torch.Generator().manual_seed(0)
    for label, M, N, K, ta, tb in gpt2_shapes(args.vocab_chunk):
        # Stored layouts as in the TS benchmark; .t() gives the transposed view, as a
        # framework's backward would pass it.
        A = torch.rand((K, M) if ta else (M, K), generator=g) - 0.5
        B = torch.rand((N, K) if tb else (K, N), generator=g) - 0.5
        opA = A.t() if ta else A
        opB = B.t() if tb else B
        C = torch.empty(M, N)
        times = {t: [] for t in threads}
        for t in threads:  # warm-up
            set_threads(t)
            torch.mm(opA, opB, out=C)
        for _ in range(args.reps):
            for t in threads:  # interleaved like the TS benchmark
                set_threads(t)
                t0 = time.perf_counter()
                torch.mm(opA, opB, out=C)
                times[t].append((time.perf_counter() - t0) * 1e3)
        for t in threads:
            ms = statistics.median(times[t])
            gflops = 2 * M * N * K / (ms * 1e6)
            print(f"| {label} | {describe(M, N, K, ta, tb)} | torch | {t} | {ms:.2f} | {gflops:.1f} |")


if __name__ == "__main__":
    main()
