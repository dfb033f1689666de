/*
 * rrhf-native: a minimal N-API addon exposing OpenBLAS's cblas_sgemm to the
 * rrhf kernels. Plain node_api.h C, so it needs no npm dependency; buffers are
 * Float32Arrays (ordinary or SharedArrayBuffer-backed, e.g. WASM memory views)
 * and are used in place, without copies. The JS side validates shapes first;
 * the length checks here are a second line of defence against memory errors.
 */
#include <node_api.h>
#include <cblas.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#define CHECK(env, call)                                   \
  do {                                                     \
    if ((call) != napi_ok) {                               \
      napi_throw_error((env), NULL, "rrhf-native: " #call " failed"); \
      return NULL;                                         \
    }                                                      \
  } while (0)

static bool get_f32(napi_env env, napi_value v, float** data, size_t* len, const char* name) {
  bool is_ta = false;
  napi_typedarray_type type;
  void* ptr = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok ||
      type != napi_float32_array) {
    char msg[64];
    snprintf(msg, sizeof msg, "rrhf-native: %s must be a Float32Array", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  *data = (float*)ptr;
  return true;
}

/* sgemm(transA, transB, M, N, K, alpha, A, B, beta, C): C = alpha*op(A)@op(B) + beta*C, row-major. */
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 10) {
    napi_throw_type_error(env, NULL, "rrhf-native: sgemm takes 10 arguments");
    return NULL;
  }
  bool ta, tb;
  int32_t M, N, K;
  double alpha, beta;
  CHECK(env, napi_get_value_bool(env, argv[0], &ta));
  CHECK(env, napi_get_value_bool(env, argv[1], &tb));
  CHECK(env, napi_get_value_int32(env, argv[2], &M));
  CHECK(env, napi_get_value_int32(env, argv[3], &N));
  CHECK(env, napi_get_value_int32(env, argv[4], &K));
  CHECK(env, napi_get_value_double(env, argv[5], &alpha));
  CHECK(env, napi_get_value_double(env, argv[8], &beta));
  float *A, *B, *C;
  size_t la, lb, lc;
  if (!get_f32(env, argv[6], &A, &la, "A") || !get_f32(env, argv[7], &B, &lb, "B") ||
      !get_f32(env, argv[9], &C, &lc, "C")) {
    return NULL;
  }
  if (M < 0 || N < 0 || K < 1 || la < (size_t)M * K || lb < (size_t)K * N || lc < (size_t)M * N) {
    napi_throw_range_error(env, NULL, "rrhf-native: sgemm shapes do not fit the buffers (K must be >= 1)");
    return NULL;
  }
  if (M == 0 || N == 0) return NULL;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              M, N, K, (float)alpha, A, ta ? M : K, B, tb ? K : N, (float)beta, C, N);
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
static void adamw_update(float* restrict p, const float* restrict g, float* restrict m, float* restrict v, size_t start,
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

MULTIVERSION
static double sum_squares(const float* restrict x, size_t n) {
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

MULTIVERSION
static void scale_in_place(float* restrict x, size_t n, double coef) {
  for (size_t i = 0; i < n; i++) x[i] = (float)(x[i] * coef);
}

/* adamwUpdate(params, grads, m, v, start, end, beta1, beta2, eps, stepSize, bc2Sqrt, decay) */
static napi_value AdamwUpdate(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12) {
    napi_throw_type_error(env, NULL, "rrhf-native: adamwUpdate takes 12 arguments");
    return NULL;
  }
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
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float* x;
  size_t n;
  if (argc != 1 || !get_f32(env, argv[0], &x, &n, "x")) return NULL;
  napi_value out;
  CHECK(env, napi_create_double(env, sum_squares(x, n), &out));
  return out;
}

static napi_value ScaleInPlace(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float* x;
  size_t n;
  double coef;
  if (argc != 2 || !get_f32(env, argv[0], &x, &n, "x")) return NULL;
  CHECK(env, napi_get_value_double(env, argv[1], &coef));
  scale_in_place(x, n, coef);
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(env, napi_get_value_int32(env, argv[0], &n));
  openblas_set_num_threads(n);
  return NULL;
}

static napi_value GetThreads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(env, napi_create_int32(env, openblas_get_num_threads(), &out));
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
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
