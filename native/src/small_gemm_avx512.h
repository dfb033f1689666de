/*
 * AVX-512 kernels of the small-M sgemm (small_gemm.h): the products of a
 * decode step, A [M, K] with M <= 8 rows (the sequences) against a weight
 * matrix read once. Both keep C's block in registers over a long run of K
 * (all of it for transB, SG512_KC rows otherwise), so the memory traffic is
 * about the stream of weights alone, and prefetch what the hardware
 * prefetcher misses. On the decode shapes (GPT-2 small and SmolLM-135M,
 * M = 4, one thread of a 2-core EPYC) they stream 20-25 GB/s where the AVX2
 * kernels, which reload and store C for every four rows of B, reach 10-15.
 */
#ifndef RRHF_SMALL_GEMM_AVX512_H
#define RRHF_SMALL_GEMM_AVX512_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#include <stddef.h>
#define SMALL_GEMM_AVX512 1
#define SG512_TARGET __attribute__((target("avx512f")))
#define SG512_INLINE __attribute__((always_inline)) inline
/* Rows of B per pass over a panel: C's panel is reloaded once per SG512_KC rows, and the prefetch has a short, steady distance. */
#define SG512_KC 128

SG512_TARGET static SG512_INLINE void sg512_store(float* c, __m512 acc, __mmask16 mask, float alpha, float beta) {
  __m512 y = _mm512_mul_ps(_mm512_set1_ps(alpha), acc);
  if (beta != 0.0f) y = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, c), y);
  _mm512_mask_storeu_ps(c, mask, y);
}

/*
 * B [K, N] (ldb): a panel of W = 16 * NV columns of C (M rows, M * NV <= 16
 * accumulators) summed over all of K; B's rows are read W floats at a time.
 * `last` masks the panel's last vector (a partial panel at the edge of C).
 */
SG512_TARGET static SG512_INLINE void sg512_nn_panel(const int M, const int NV, int K, int lda, float alpha, const float* A,
                                                     const float* B, int ldb, float beta, float* C, int ldc,
                                                     __mmask16 last) {
  __m512 acc[8][4];
  for (int m = 0; m < M; m++)
    for (int j = 0; j < NV; j++) acc[m][j] = _mm512_setzero_ps();
  for (int k = 0; k < K; k++) {
    const float* b = B + (size_t)k * ldb;
    /* The next panel's part of this row: the prefetcher does not follow a column panel down the rows by itself. */
    for (int j = 0; j < NV; j++) _mm_prefetch((const char*)(b + 16 * (NV + j)), _MM_HINT_T0);
    __m512 bv[4];
    for (int j = 0; j < NV; j++) bv[j] = j == NV - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * j) : _mm512_loadu_ps(b + 16 * j);
    for (int m = 0; m < M; m++) {
      const __m512 a = _mm512_set1_ps(A[(size_t)m * lda + k]);
      for (int j = 0; j < NV; j++) acc[m][j] = _mm512_fmadd_ps(a, bv[j], acc[m][j]);
    }
  }
  for (int m = 0; m < M; m++)
    for (int j = 0; j < NV; j++) sg512_store(C + (size_t)m * ldc + 16 * j, acc[m][j], j == NV - 1 ? last : 0xFFFF, alpha, beta);
}

/*
 * C = alpha * A @ B + beta * C, B [K, N] (ldb), in panels of 64 (M <= 4) or
 * 32 (M <= 8) columns, SG512_KC rows of B at a time (later chunks add to C).
 */
SG512_TARGET static SG512_INLINE void sg512_nn_rows(const int M, int N, int K, float alpha, const float* A, const float* B,
                                                    int ldb, float beta, float* C, int ldc) {
  const int NV = M <= 4 ? 4 : 2;
  const int W = 16 * NV;
  for (int k0 = 0; k0 < K; k0 += SG512_KC) {
    const int kc = K - k0 < SG512_KC ? K - k0 : SG512_KC;
    const float b0 = k0 == 0 ? beta : 1.0f;
    const float* a = A + k0;
    const float* bb = B + (size_t)k0 * ldb;
    int n = 0;
    for (; n + W <= N; n += W) sg512_nn_panel(M, NV, kc, K, alpha, a, bb + n, ldb, b0, C + n, ldc, 0xFFFF);
    for (; n < N; n += 16) {
      const int w = N - n < 16 ? N - n : 16;
      sg512_nn_panel(M, 1, kc, K, alpha, a, bb + n, ldb, b0, C + n, ldc, (__mmask16)((1u << w) - 1));
    }
  }
}

SG512_TARGET static void sg512_nn(int M, int N, int K, float alpha, const float* A, const float* B, int ldb, float beta,
                                  float* C, int ldc) {
  switch (M) {
    case 1: sg512_nn_rows(1, N, K, alpha, A, B, ldb, beta, C, ldc); break;
    case 2: sg512_nn_rows(2, N, K, alpha, A, B, ldb, beta, C, ldc); break;
    case 3: sg512_nn_rows(3, N, K, alpha, A, B, ldb, beta, C, ldc); break;
    case 4: sg512_nn_rows(4, N, K, alpha, A, B, ldb, beta, C, ldc); break;
    case 5: sg512_nn_rows(5, N, K, alpha, A, B, ldb, beta, C, ldc); break;
    case 6: sg512_nn_rows(6, N, K, alpha, A, B, ldb, beta, C, ldc); break;
    case 7: sg512_nn_rows(7, N, K, alpha, A, B, ldb, beta, C, ldc); break;
    default: sg512_nn_rows(8, N, K, alpha, A, B, ldb, beta, C, ldc); break;
  }
}

/*
 * B [N, K] (transB): NC columns of C at once (M * NC <= 16 accumulators),
 * each a dot product over K of A's rows with one row of B; A (a few KB) stays
 * in L1 while the NC rows of B stream through.
 */
SG512_TARGET static SG512_INLINE void sg512_nt_block(const int M, const int NC, int K, float alpha, const float* A,
                                                     const float* B, float beta, float* C, int ldc) {
  __m512 acc[8][4];
  for (int m = 0; m < M; m++)
    for (int j = 0; j < NC; j++) acc[m][j] = _mm512_setzero_ps();
  for (int k = 0; k < K; k += 16) {
    const __mmask16 mask = K - k >= 16 ? 0xFFFF : (__mmask16)((1u << (K - k)) - 1);
    __m512 bv[4];
    /* The next block's rows: NC interleaved streams defeat the prefetcher (half the bandwidth without this). */
    for (int j = 0; j < NC; j++) _mm_prefetch((const char*)(B + (size_t)(j + NC) * K + k), _MM_HINT_T0);
    for (int j = 0; j < NC; j++) bv[j] = _mm512_maskz_loadu_ps(mask, B + (size_t)j * K + k);
    for (int m = 0; m < M; m++) {
      const __m512 a = _mm512_maskz_loadu_ps(mask, A + (size_t)m * K + k);
      for (int j = 0; j < NC; j++) acc[m][j] = _mm512_fmadd_ps(a, bv[j], acc[m][j]);
    }
  }
  for (int m = 0; m < M; m++)
    for (int j = 0; j < NC; j++) {
      float* c = C + (size_t)m * ldc + j;
      const float s = alpha * _mm512_reduce_add_ps(acc[m][j]);
      *c = beta == 0.0f ? s : s + beta * *c;
    }
}

SG512_TARGET static SG512_INLINE void sg512_nt_rows(const int M, int N, int K, float alpha, const float* A, const float* B,
                                                    float beta, float* C, int ldc) {
  const int NC = M <= 4 ? 4 : 2;
  int n = 0;
  for (; n + NC <= N; n += NC) sg512_nt_block(M, NC, K, alpha, A, B + (size_t)n * K, beta, C + n, ldc);
  for (; n < N; n++) sg512_nt_block(M, 1, K, alpha, A, B + (size_t)n * K, beta, C + n, ldc);
}

SG512_TARGET static void sg512_nt(int M, int N, int K, float alpha, const float* A, const float* B, float beta, float* C,
                                  int ldc) {
  switch (M) {
    case 1: sg512_nt_rows(1, N, K, alpha, A, B, beta, C, ldc); break;
    case 2: sg512_nt_rows(2, N, K, alpha, A, B, beta, C, ldc); break;
    case 3: sg512_nt_rows(3, N, K, alpha, A, B, beta, C, ldc); break;
    case 4: sg512_nt_rows(4, N, K, alpha, A, B, beta, C, ldc); break;
    case 5: sg512_nt_rows(5, N, K, alpha, A, B, beta, C, ldc); break;
    case 6: sg512_nt_rows(6, N, K, alpha, A, B, beta, C, ldc); break;
    case 7: sg512_nt_rows(7, N, K, alpha, A, B, beta, C, ldc); break;
    default: sg512_nt_rows(8, N, K, alpha, A, B, beta, C, ldc); break;
  }
}
#endif

#endif
