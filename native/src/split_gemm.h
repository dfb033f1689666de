/*
 * Large products split over the backend's threads by this addon (OpenMP), each
 * part one single-threaded cblas_sgemm, instead of OpenBLAS's own thread pool.
 * Why: every other threaded kernel of the addon (activations, softmax rows,
 * copies, AdamW) runs on OpenMP's pool; with OpenBLAS keeping a second pool,
 * the two pools' waiting threads spin against each other (on 2 cores a step
 * with 2 threads was no faster than with 1). Here one pool does everything.
 * C is split along its longer side (rows of C, or column blocks of whole
 * cache lines); each part has at least SPLIT_MIN_WORK multiply-adds, so small
 * products (attention tiles) stay on one thread. RRHF_SGEMM_THREADS=openblas
 * hands the threads back to OpenBLAS's pool (for A/B timing); read once.
 * Included once by rrhf_native.c (after small_gemm.h).
 */
#ifndef RRHF_SPLIT_GEMM_H
#define RRHF_SPLIT_GEMM_H

#include <cblas.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SPLIT_MIN_WORK (1.0 * (1 << 21))

/* -1 not yet read, 0 OpenBLAS's own pool, 1 split here. */
static int split_gemm_mode = -1;

static int split_gemm_read_mode(void) {
  const char* env = getenv("RRHF_SGEMM_THREADS");
  return env != NULL && strcmp(env, "openblas") == 0 ? 0 : 1;
}

/* The thread count OpenBLAS itself should use for a backend of `threads`: 1 when this file splits the work. */
static int openblas_threads_for(int threads) {
  if (split_gemm_mode < 0) split_gemm_mode = split_gemm_read_mode();
  return split_gemm_mode == 1 ? 1 : threads;
}

static void gemm_block(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
                       float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta,
              C, ldc);
}

/* C [M, N] = alpha * op(A) @ op(B) + beta * C, row-major, split over the backend's threads when large enough. */
static void split_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta, float* C) {
  const int lda = ta ? M : K, ldb = tb ? K : N;
  if (split_gemm_mode < 0) split_gemm_mode = split_gemm_read_mode();
  const double most = (double)M * N * K / SPLIT_MIN_WORK;
  const int t = split_gemm_mode == 1 ? small_gemm_threads : 1;
  const int parts = t < 2 || most < 2 ? 1 : (most < t ? (int)most : t);
  if (parts <= 1) {
    gemm_block(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, N);
    return;
  }
  const bool by_rows = M >= N;
#pragma omp parallel for num_threads(parts) schedule(static)
  for (int p = 0; p < parts; p++) {
    if (by_rows) {
      const int m0 = (int)((long)M * p / parts), m1 = (int)((long)M * (p + 1) / parts);
      const float* a = ta ? A + m0 : A + (size_t)m0 * lda;
      if (m1 > m0) gemm_block(ta, tb, m1 - m0, N, K, alpha, a, lda, B, ldb, beta, C + (size_t)m0 * N, N);
    } else {
      const int n0 = (int)part_start(0, (size_t)N, p, parts), n1 = (int)part_start(0, (size_t)N, p + 1, parts);
      const float* b = tb ? B + (size_t)n0 * ldb : B + n0;
      if (n1 > n0) gemm_block(ta, tb, M, n1 - n0, K, alpha, A, lda, b, ldb, beta, C + n0, N);
    }
  }
}

#endif
