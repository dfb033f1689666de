/*
 * Memory-bound helpers of the autodiff ops (the loops of kernels/ref/memops.ts):
 * strided block copies and accumulations (head split/merge, splitting a fused
 * projection, scattering attention key-block gradients, residual adds,
 * broadcasting a bias into every row) and column sums (bias gradients). Why
 * native: in JavaScript these ran at a few ns per value, one thread; here
 * they are vector loops split over the backend's threads. Every value is
 * computed the same way for any split (no reordered sums). Included once by
 * rrhf_native.c (after napi_args.h and thread_parts).
 */
#ifndef RRHF_MEMOPS_H
#define RRHF_MEMOPS_H

#include <stddef.h>
#include <string.h>

/* Below this many values per thread a second thread does not pay for waking it. */
#define MEM_MIN_PER_THREAD 65536

/* Row i of the outer loop: n1 runs of `cols` values. */
MULTIVERSION
static void copy_blocks_outer(float* restrict dst, const float* restrict src, size_t i0, size_t i1, size_t dS0, size_t sS0,
                              size_t n1, size_t dS1, size_t sS1, size_t cols, bool acc) {
  for (size_t i = i0; i < i1; i++) {
    for (size_t j = 0; j < n1; j++) {
      float* restrict d = dst + i * dS0 + j * dS1;
      const float* restrict s = src + i * sS0 + j * sS1;
      if (acc) {
        for (size_t c = 0; c < cols; c++) d[c] += s[c];
      } else {
        memcpy(d, s, cols * sizeof(float));
      }
    }
  }
}

/*
 * For i < n0, j < n1, c < cols: dst[i*dS0 + j*dS1 + c] = (or +=) src[i*sS0 + j*sS1 + c].
 * dst and src must not overlap; a zero source stride repeats (broadcasts) the source.
 */
static void copy_blocks(float* dst, const float* src, size_t n0, size_t dS0, size_t sS0, size_t n1, size_t dS1, size_t sS1,
                        size_t cols, bool acc) {
  const int parts = thread_parts(n0 * n1 * cols, MEM_MIN_PER_THREAD);
  if (parts <= 1 || n0 < 2) {
    copy_blocks_outer(dst, src, 0, n0, dS0, sS0, n1, dS1, sS1, cols, acc);
    return;
  }
#pragma omp parallel for num_threads(parts) schedule(static)
  for (int p = 0; p < parts; p++) {
    const size_t a = n0 * (size_t)p / (size_t)parts, b = n0 * (size_t)(p + 1) / (size_t)parts;
    copy_blocks_outer(dst, src, a, b, dS0, sS0, n1, dS1, sS1, cols, acc);
  }
}

/* Columns [c0, c1): sum[c] += x[0][c] + x[1][c] + ... in row order, in float (as the reference). */
MULTIVERSION
static void col_sums_range(float* restrict sum, const float* restrict x, size_t M, size_t N, size_t c0, size_t c1) {
  for (size_t i = 0; i < M; i++) {
    const float* restrict row = x + i * N;
    for (size_t c = c0; c < c1; c++) sum[c] += row[c];
  }
}

static void col_sums_acc(float* sum, const float* x, size_t M, size_t N) {
  const int parts = thread_parts(M * N, MEM_MIN_PER_THREAD);
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int p = 0; p < parts; p++) col_sums_range(sum, x, M, N, part_start(0, N, p, parts), part_start(0, N, p + 1, parts));
}

/* One past the last value index an access pattern touches; 0 when it touches none. In double: huge arguments cannot wrap around. */
static double blocks_extent(size_t off, size_t n0, size_t S0, size_t n1, size_t S1, size_t cols) {
  if (n0 == 0 || n1 == 0 || cols == 0) return 0;
  return (double)off + (double)(n0 - 1) * (double)S0 + (double)(n1 - 1) * (double)S1 + (double)cols;
}

/* copyBlocks(dst, dOff, src, sOff, n0, dS0, sS0, n1, dS1, sS1, cols, accumulate) */
static napi_value CopyBlocks(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12) {
    napi_throw_type_error(env, NULL, "rrhf-native: copyBlocks takes 12 arguments");
    return NULL;
  }
  size_t v[9];
  const int at[9] = {1, 3, 4, 5, 6, 7, 8, 9, 10};
  for (int k = 0; k < 9; k++)
    if (!get_count(env, argv[at[k]], &v[k])) return NULL;
  const size_t dOff = v[0], sOff = v[1], n0 = v[2], dS0 = v[3], sS0 = v[4], n1 = v[5], dS1 = v[6], sS1 = v[7], cols = v[8];
  bool acc;
  CHECK(env, napi_get_value_bool(env, argv[11], &acc));
  float *dst, *src;
  size_t ld, ls;
  if (!get_f32(env, argv[0], &dst, &ld, "dst") || !get_f32(env, argv[2], &src, &ls, "src")) return NULL;
  if (blocks_extent(dOff, n0, dS0, n1, dS1, cols) > (double)ld || blocks_extent(sOff, n0, sS0, n1, sS1, cols) > (double)ls) {
    napi_throw_range_error(env, NULL, "rrhf-native: copyBlocks reaches past a buffer");
    return NULL;
  }
  if (n0 && n1 && cols) copy_blocks(dst + dOff, src + sOff, n0, dS0, sS0, n1, dS1, sS1, cols, acc);
  return NULL;
}

/* colSumsAcc(sum, x, M, N): sum[c] += sum over rows of x [M, N]. */
static napi_value ColSumsAcc(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t M, N;
  if (argc != 4 || !get_count(env, argv[2], &M) || !get_count(env, argv[3], &N)) return NULL;
  float* b[2];
  const size_t need[2] = {N, M * N};
  const bool nullable[2] = {false, false};
  if (!get_buffers(env, argv, b, need, nullable, 2, "colSumsAcc")) return NULL;
  if (M && N) col_sums_acc(b[0], b[1], M, N);
  return NULL;
}

#endif
