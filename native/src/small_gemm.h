/*
 * sgemm for a few rows of A (M <= SMALL_GEMM_MAX_M): the matrix products of a
 * decode step, where the k continuations' (and several prompts') hidden rows
 * meet each weight matrix once. The work is memory-bound: one pass over B
 * (the weights) serves all M rows. OpenBLAS packs B for such shapes, which
 * for M = 4 made it about 2x slower than one sgemv over the same weights.
 *
 * Row-major, C = alpha * A @ op(B) + beta * C (beta == 0 never reads C),
 * A [M, K] untransposed. Included once by rrhf_native.c (header-only, so the
 * build script compiles one file). AVX-512 (small_gemm_avx512.h) where the
 * CPU has it, else AVX2+FMA, else plain C; the columns of C are split over
 * the backend's threads (OpenMP). RRHF_SMALL_GEMM=avx2 or
 * =plain forces those kernels, RRHF_SMALL_GEMM=off hands every product to
 * OpenBLAS (for A/B timing); read once, at the first call.
 */
#ifndef RRHF_SMALL_GEMM_H
#define RRHF_SMALL_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_GEMM_MAX_M 8

#include "small_gemm_avx512.h"

static inline void small_gemm_store(float* c, float acc, float alpha, float beta) {
  *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

/* Plain C: B [N, K] (transB) or [K, N]. */
static void small_gemm_plain(bool transB, int M, int N, int K, float alpha, const float* A, const float* B, int ldb,
                             float beta, float* C, int ldc) {
  if (transB) {
    for (int n = 0; n < N; n++) {
      const float* b = B + (size_t)n * ldb;
      for (int m = 0; m < M; m++) {
        const float* a = A + (size_t)m * K;
        float acc = 0.0f;
        for (int k = 0; k < K; k++) acc += a[k] * b[k];
        small_gemm_store(C + (size_t)m * ldc + n, acc, alpha, beta);
      }
    }
    return;
  }
  for (int m = 0; m < M; m++) {
    float* c = C + (size_t)m * ldc;
    for (int n = 0; n < N; n++) c[n] = beta == 0.0f ? 0.0f : beta * c[n];
    for (int k = 0; k < K; k++) {
      const float a = alpha * A[(size_t)m * K + k];
      const float* b = B + (size_t)k * ldb;
      for (int n = 0; n < N; n++) c[n] += a * b[n];
    }
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SMALL_GEMM_SIMD 1
#define SMALL_GEMM_TARGET __attribute__((target("avx2,fma")))

SMALL_GEMM_TARGET static inline float small_gemm_hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* Columns n and n + 1 of a transB product with M <= 4: eight independent FMA chains, A read once for both. */
SMALL_GEMM_TARGET static void small_gemm_nt_pair(int M, int K, int n, float alpha, const float* A, const float* B,
                                                 float beta, float* C, int ldc) {
  const int K8 = K & ~7;
  const float* b0 = B + (size_t)n * K;
  const float* b1 = b0 + K;
  __m256 acc0[4], acc1[4];
  for (int m = 0; m < M; m++) acc0[m] = acc1[m] = _mm256_setzero_ps();
  for (int k = 0; k < K8; k += 8) {
    const __m256 v0 = _mm256_loadu_ps(b0 + k), v1 = _mm256_loadu_ps(b1 + k);
    for (int m = 0; m < M; m++) {
      const __m256 a = _mm256_loadu_ps(A + (size_t)m * K + k);
      acc0[m] = _mm256_fmadd_ps(a, v0, acc0[m]);
      acc1[m] = _mm256_fmadd_ps(a, v1, acc1[m]);
    }
  }
  for (int m = 0; m < M; m++) {
    float s0 = small_gemm_hsum(acc0[m]), s1 = small_gemm_hsum(acc1[m]);
    for (int k = K8; k < K; k++) {
      s0 += A[(size_t)m * K + k] * b0[k];
      s1 += A[(size_t)m * K + k] * b1[k];
    }
    small_gemm_store(C + (size_t)m * ldc + n, s0, alpha, beta);
    small_gemm_store(C + (size_t)m * ldc + n + 1, s1, alpha, beta);
  }
}

/* transB: C[m, n] = dot(A[m, :], B[n, :]); each row of B is read once for all M rows of A. */
SMALL_GEMM_TARGET static void small_gemm_nt_avx2(int M, int N, int K, float alpha, const float* A, const float* B,
                                                 float beta, float* C, int ldc) {
  const int K8 = K & ~7;
  int n0 = 0;
  if (M <= 4)
    for (; n0 + 2 <= N; n0 += 2) small_gemm_nt_pair(M, K, n0, alpha, A, B, beta, C, ldc);
  for (int n = n0; n < N; n++) {
    const float* b = B + (size_t)n * K;
    __m256 acc[SMALL_GEMM_MAX_M];
    for (int m = 0; m < M; m++) acc[m] = _mm256_setzero_ps();
    for (int k = 0; k < K8; k += 8) {
      const __m256 bv = _mm256_loadu_ps(b + k);
      for (int m = 0; m < M; m++) acc[m] = _mm256_fmadd_ps(_mm256_loadu_ps(A + (size_t)m * K + k), bv, acc[m]);
    }
    for (int m = 0; m < M; m++) {
      float s = small_gemm_hsum(acc[m]);
      for (int k = K8; k < K; k++) s += A[(size_t)m * K + k] * b[k];
      small_gemm_store(C + (size_t)m * ldc + n, s, alpha, beta);
    }
  }
}

/*
 * B [K, N]: C[m, :] += A[m, k] * B[k, :], four rows of B at a time, each
 * streamed contiguously (prefetch-friendly); C's M rows stay in cache.
 */
SMALL_GEMM_TARGET static void small_gemm_nn_avx2(int M, int N, int K, float alpha, const float* A, const float* B,
                                                 int ldb, float beta, float* C, int ldc) {
  const int N8 = N & ~7;
  for (int m = 0; m < M; m++) {
    float* c = C + (size_t)m * ldc;
    for (int n = 0; n < N; n++) c[n] = beta == 0.0f ? 0.0f : beta * c[n];
  }
  int k = 0;
  for (; k + 4 <= K; k += 4) {
    const float* b0 = B + (size_t)k * ldb;
    const float* b1 = b0 + ldb;
    const float* b2 = b1 + ldb;
    const float* b3 = b2 + ldb;
    for (int n = 0; n < N8; n += 8) {
      const __m256 v0 = _mm256_loadu_ps(b0 + n), v1 = _mm256_loadu_ps(b1 + n);
      const __m256 v2 = _mm256_loadu_ps(b2 + n), v3 = _mm256_loadu_ps(b3 + n);
      for (int m = 0; m < M; m++) {
        const float* a = A + (size_t)m * K + k;
        float* c = C + (size_t)m * ldc + n;
        __m256 y = _mm256_loadu_ps(c);
        y = _mm256_fmadd_ps(_mm256_set1_ps(alpha * a[0]), v0, y);
        y = _mm256_fmadd_ps(_mm256_set1_ps(alpha * a[1]), v1, y);
        y = _mm256_fmadd_ps(_mm256_set1_ps(alpha * a[2]), v2, y);
        y = _mm256_fmadd_ps(_mm256_set1_ps(alpha * a[3]), v3, y);
        _mm256_storeu_ps(c, y);
      }
    }
    for (int m = 0; m < M; m++) {
      const float* a = A + (size_t)m * K + k;
      float* c = C + (size_t)m * ldc;
      for (int n = N8; n < N; n++)
        c[n] += alpha * a[0] * b0[n] + alpha * a[1] * b1[n] + alpha * a[2] * b2[n] + alpha * a[3] * b3[n];
    }
  }
  for (; k < K; k++) {
    const float* b = B + (size_t)k * ldb;
    for (int m = 0; m < M; m++) {
      const float a = alpha * A[(size_t)m * K + k];
      float* c = C + (size_t)m * ldc;
      for (int n = 0; n < N; n++) c[n] += a * b[n];
    }
  }
}
#endif

/* OpenBLAS's thread count, mirrored by SetThreads: the small path splits the columns of C over as many threads. */
static int small_gemm_threads = 1;
/* -1 not yet read, 0 off (OpenBLAS), 1 plain C, 2 AVX2+FMA, 3 AVX-512; set before any parallel region. */
static int small_gemm_mode = -1;

static int small_gemm_read_mode(void) {
  const char* env = getenv("RRHF_SMALL_GEMM");
  if (env != NULL && strcmp(env, "off") == 0) return 0;
  if (env != NULL && strcmp(env, "plain") == 0) return 1;
  const bool avx2_only = env != NULL && strcmp(env, "avx2") == 0;
#ifdef SMALL_GEMM_AVX512
  if (!avx2_only && __builtin_cpu_supports("avx512f")) return 3;
#endif
#ifdef SMALL_GEMM_SIMD
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 2;
#endif
  return 1;
}

/* Columns [n0, n1) of the product (B and C offset to them; the row strides stay the full ones). */
static void small_gemm_cols(bool transB, int M, int N, int K, int n0, int n1, float alpha, const float* A, const float* B,
                            float beta, float* C) {
  const float* b = transB ? B + (size_t)n0 * K : B + n0;
  const int ldb = transB ? K : N;
#ifdef SMALL_GEMM_AVX512
  if (small_gemm_mode == 3) {
    if (transB) sg512_nt(M, n1 - n0, K, alpha, A, b, beta, C + n0, N);
    else sg512_nn(M, n1 - n0, K, alpha, A, b, ldb, beta, C + n0, N);
    return;
  }
#endif
#ifdef SMALL_GEMM_SIMD
  if (small_gemm_mode == 2) {
    if (transB) small_gemm_nt_avx2(M, n1 - n0, K, alpha, A, b, beta, C + n0, N);
    else small_gemm_nn_avx2(M, n1 - n0, K, alpha, A, b, ldb, beta, C + n0, N);
    return;
  }
#endif
  small_gemm_plain(transB, M, n1 - n0, K, alpha, A, b, ldb, beta, C + n0, N);
}

/* True when it handled the product (M small, A untransposed); otherwise the caller uses BLAS. */
static bool small_gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, const float* B,
                       float beta, float* C) {
  if (small_gemm_mode < 0) small_gemm_mode = small_gemm_read_mode();
  if (small_gemm_mode == 0 || transA || M < 2 || M > SMALL_GEMM_MAX_M) return false;
  /* Below ~64K weights a second thread costs more than it saves. */
  const int threads = (size_t)N * K < 65536 || N < 64 ? 1 : small_gemm_threads;
  if (threads <= 1) {
    small_gemm_cols(transB, M, N, K, 0, N, alpha, A, B, beta, C);
    return true;
  }
  /* Chunks of whole 16-column groups, so each thread's stores stay in its own cache lines. */
  const int groups = (N + 15) / 16;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; t++) {
    const int n0 = (int)((long)groups * t / threads) * 16;
    int n1 = (int)((long)groups * (t + 1) / threads) * 16;
    if (n1 > N) n1 = N;
    if (n0 < n1) small_gemm_cols(transB, M, N, K, n0, n1, alpha, A, B, beta, C);
  }
  return true;
}

#endif
