/*
 * rrhf-native: a minimal N-API addon exposing OpenBLAS's cblas_sgemm to the
 * rrhf kernels. Plain node_api.h C, so it needs no npm dependency; buffers are
 * Float32Arrays (ordinary or SharedArrayBuffer-backed, e.g. WASM memory views)
 * and are used in place, without copies. The JS side validates shapes first;
 * the length checks here are a second line of defence against memory errors.
 */
/* madvise and its MADV_* advice (pages.h) are outside strict C11. */
#define _DEFAULT_SOURCE
#include <node_api.h>
#include <cblas.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "small_gemm.h"
#include "napi_args.h"

/*
 * How many threads a kernel over `work` values uses: one per `min_per_thread`
 * values (below that, waking another thread costs more than it saves), at
 * most the backend's thread count (small_gemm_threads mirrors it).
 */
static int thread_parts(size_t work, size_t min_per_thread) {
  const size_t most = work / min_per_thread;
  const int t = small_gemm_threads;
  return most < 2 || t < 2 ? 1 : (most < (size_t)t ? (int)most : t);
}

/* Start of part p of [a, b) split in `parts`, on a 16-value (64-byte) boundary so no two threads write one cache line. */
static size_t part_start(size_t a, size_t b, int p, int parts) {
  if (p == parts) return b;
  const size_t s = a + (((b - a) * (size_t)p / (size_t)parts) & ~(size_t)15);
  return s < b ? s : b;
}

#include "split_gemm.h"

/* sgemm(transA, transB, M, N, K, alpha, A, B, beta, C): C = alpha*op(A)@op(B) + beta*C, row-major. */
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  gemm_args g;
  if (!get_gemm_args(env, info, "sgemm", &g)) return NULL;
  if (g.M == 0 || g.N == 0) return NULL;
  if (small_gemm(g.ta, g.tb, g.M, g.N, g.K, (float)g.alpha, g.A, g.B, (float)g.beta, g.C)) return NULL;
  split_gemm(g.ta, g.tb, g.M, g.N, g.K, (float)g.alpha, g.A, g.B, (float)g.beta, g.C);
  return NULL;
}

/*
 * Optimizer and clipping kernels: the loops of kernels/ref/optim.ts, in the
 * same order and precision (double arithmetic, float32 stores), so results
 * equal the reference's. Compiled for AVX-512, AVX2 and baseline x86-64 with
 * the best picked at load time where GCC/Clang function multi-versioning works.
 */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTIVERSION
#endif

MULTIVERSION
static void adamw_range(float* restrict p, const float* restrict g, float* restrict m, float* restrict v, size_t start,
                         size_t end, double b1, double b2, double eps, double step_size, double bc2_sqrt, double decay) {
  const bool decays = decay != 1.0;
  for (size_t i = start; i < end; i++) {
    const double gi = g[i];
    float pi = p[i];
    if (decays) pi = (float)(pi * decay);
    const float mi = (float)(b1 * m[i] + (1 - b1) * gi);
    const float vi = (float)(b2 * v[i] + ((1 - b2) * gi) * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = (float)(pi - (step_size * mi) / (sqrt((double)vi) / bc2_sqrt + eps));
  }
}

/* Elementwise, so splitting the range over threads leaves every value as the one-thread loop computes it. */
static void adamw_update(float* p, const float* g, float* m, float* v, size_t start, size_t end, double b1, double b2,
                         double eps, double step_size, double bc2_sqrt, double decay) {
  const int parts = thread_parts(end - start, 1 << 16);
  if (parts <= 1) {
    adamw_range(p, g, m, v, start, end, b1, b2, eps, step_size, bc2_sqrt, decay);
    return;
  }
#pragma omp parallel for num_threads(parts) schedule(static)
  for (int k = 0; k < parts; k++)
    adamw_range(p, g, m, v, part_start(start, end, k, parts), part_start(start, end, k + 1, parts), b1, b2, eps, step_size,
                bc2_sqrt, decay);
}

MULTIVERSION
static double sum_squares_block(const float* restrict x, size_t n) {
  /* Eight partial sums: the compiler keeps a strict order for one sum and would not vectorise it. */
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) acc[j] += (double)x[i + j] * x[i + j];
  }
  double sum = 0;
  for (int j = 0; j < 8; j++) sum += acc[j];
  for (; i < n; i++) sum += (double)x[i] * x[i];
  return sum;
}

/*
 * Blocks of a fixed size, summed in order: the same value for any thread
 * count (a split by thread count would change the rounding, so the clipping
 * coefficient, with --threads).
 */
#define SUM_BLOCK ((size_t)1 << 16)

/* One block's sum over elements [k0, k1) of whatever `ctx` describes. */
typedef double (*block_sum_fn)(const void* ctx, size_t k0, size_t k1);

/* The sum over n elements in SUM_BLOCK blocks, split over threads by block, the block sums added in block order. */
static double blocked_sum(size_t n, block_sum_fn block, const void* ctx) {
  const long blocks = (long)((n + SUM_BLOCK - 1) / SUM_BLOCK);
  if (blocks <= 1) return block(ctx, 0, n);
  double part[64];
  double sum = 0;
  /* Groups of 64 blocks keep the partial sums on the stack. */
  for (long b0 = 0; b0 < blocks; b0 += 64) {
    const long nb = blocks - b0 < 64 ? blocks - b0 : 64;
    const int parts = thread_parts((size_t)nb * SUM_BLOCK, SUM_BLOCK);
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
    for (long k = 0; k < nb; k++) {
      const size_t i = (size_t)(b0 + k) * SUM_BLOCK;
      part[k] = block(ctx, i, n - i < SUM_BLOCK ? n : i + SUM_BLOCK);
    }
    for (long k = 0; k < nb; k++) sum += part[k];
  }
  return sum;
}

static double squares_block(const void* x, size_t k0, size_t k1) {
  return sum_squares_block((const float*)x + k0, k1 - k0);
}

static double sum_squares(const float* x, size_t n) {
  return blocked_sum(n, squares_block, x);
}

MULTIVERSION
static void scale_range(float* restrict x, size_t n, double coef) {
  for (size_t i = 0; i < n; i++) x[i] = (float)(x[i] * coef);
}

static void scale_in_place(float* x, size_t n, double coef) {
  const int parts = thread_parts(n, 1 << 16);
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int k = 0; k < parts; k++) {
    const size_t a = part_start(0, n, k, parts);
    scale_range(x + a, part_start(0, n, k + 1, parts) - a, coef);
  }
}

/* adamwUpdate(params, grads, m, v, start, end, beta1, beta2, eps, stepSize, bc2Sqrt, decay) */
static napi_value AdamwUpdate(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  if (!get_args(env, info, argv, 12, "adamwUpdate")) return NULL;
  float *p, *g, *m, *v;
  size_t lp, lg, lm, lv;
  if (!get_f32(env, argv[0], &p, &lp, "params") || !get_f32(env, argv[1], &g, &lg, "grads") ||
      !get_f32(env, argv[2], &m, &lm, "m") || !get_f32(env, argv[3], &v, &lv, "v")) {
    return NULL;
  }
  double start, end, h[6];
  CHECK(env, napi_get_value_double(env, argv[4], &start));
  CHECK(env, napi_get_value_double(env, argv[5], &end));
  for (int i = 0; i < 6; i++) CHECK(env, napi_get_value_double(env, argv[6 + i], &h[i]));
  if (!(start >= 0) || !(end >= start) || end > (double)lp || end > (double)lg || end > (double)lm || end > (double)lv) {
    napi_throw_range_error(env, NULL, "rrhf-native: adamwUpdate range does not fit the buffers");
    return NULL;
  }
  adamw_update(p, g, m, v, (size_t)start, (size_t)end, h[0], h[1], h[2], h[3], h[4], h[5]);
  return NULL;
}

static napi_value SumSquares(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  float* x;
  size_t n;
  if (!get_args(env, info, argv, 1, "sumSquares") || !get_f32(env, argv[0], &x, &n, "x")) return NULL;
  napi_value out;
  CHECK(env, napi_create_double(env, sum_squares(x, n), &out));
  return out;
}

static napi_value ScaleInPlace(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  float* x;
  size_t n;
  double coef;
  if (!get_args(env, info, argv, 2, "scaleInPlace") || !get_f32(env, argv[0], &x, &n, "x")) return NULL;
  CHECK(env, napi_get_value_double(env, argv[1], &coef));
  scale_in_place(x, n, coef);
  return NULL;
}
/* SGD and Adafactor (they use SUM_BLOCK and the helpers above). */
#include "optim.h"
#include "norm.h"
#include "pointwise.h"
#include "memops.h"
#include "product.h"
#include "attention.h"
#include "rope.h"
#include "pages.h"

#ifdef RRHF_HAVE_DNNL
#include "bf16_gemm.h"
#else
#define BF16_PROPS
#endif

/* The fused decode-step attention (kernel and N-API wrapper; it includes activations.h's exp): it uses the helpers above. */
#include "decode_attention.h"

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t n;
  if (!get_args(env, info, argv, 1, "setThreads")) return NULL;
  CHECK(env, napi_get_value_int32(env, argv[0], &n));
  openblas_set_num_threads(openblas_threads_for(n));
  small_gemm_threads = n;
  return NULL;
}

static napi_value GetThreads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(env, napi_create_int32(env, small_gemm_threads, &out));
  return out;
}

static napi_value Config(napi_env env, napi_callback_info info) {
  (void)info;
  char buf[512];
  snprintf(buf, sizeof buf, "%s; core %s", openblas_get_config(), openblas_get_corename());
  napi_value out;
  CHECK(env, napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
    {"getThreads", NULL, GetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
    {"config", NULL, Config, NULL, NULL, NULL, napi_enumerable, NULL},
    {"adamwUpdate", NULL, AdamwUpdate, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumSquares", NULL, SumSquares, NULL, NULL, NULL, napi_enumerable, NULL},
    {"scaleInPlace", NULL, ScaleInPlace, NULL, NULL, NULL, napi_enumerable, NULL},
    OPTIM_PROPS
    {"layernormForward", NULL, LayernormForward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"layernormBackward", NULL, LayernormBackward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"rmsnormForward", NULL, RmsnormForward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"rmsnormBackward", NULL, RmsnormBackward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"geluForward", NULL, GeluForward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"geluBackward", NULL, GeluBackward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"siluForward", NULL, SiluForward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"siluBackward", NULL, SiluBackward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"logSumExpRows", NULL, LogSumExpRows, NULL, NULL, NULL, napi_enumerable, NULL},
    {"scaledSoftmaxRows", NULL, ScaledSoftmaxRows, NULL, NULL, NULL, napi_enumerable, NULL},
    {"copyBlocks", NULL, CopyBlocks, NULL, NULL, NULL, napi_enumerable, NULL},
    {"colSumsAcc", NULL, ColSumsAcc, NULL, NULL, NULL, napi_enumerable, NULL},
    {"productForward", NULL, ProductForward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"productBackward", NULL, ProductBackward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"attentionTilesForward", NULL, AttentionTilesForward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"attentionTilesBackward", NULL, AttentionTilesBackward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decodeAttention", NULL, DecodeAttention, NULL, NULL, NULL, napi_enumerable, NULL},
    {"ropeForward", NULL, RopeForward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"ropeBackward", NULL, RopeBackward, NULL, NULL, NULL, napi_enumerable, NULL},
    PAGES_PROPS
    BF16_PROPS
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
