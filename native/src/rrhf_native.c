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

#include "small_gemm.h"

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
  if (small_gemm(ta, tb, M, N, K, (float)alpha, A, B, (float)beta, C)) return NULL;
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

/*
 * Layer norm and RMS norm over rows of C values: the loops of
 * kernels/ref/layernorm.ts and ref/rmsnorm.ts in double precision (row sums
 * in four partial sums so they vectorise; the reference sums in order, so
 * results differ from it by rounding only). Backward ACCUMULATES.
 */
MULTIVERSION
static double row_sum(const float* restrict x, size_t C) {
  double a[4] = {0, 0, 0, 0};
  size_t c = 0;
  for (; c + 4 <= C; c += 4)
    for (int j = 0; j < 4; j++) a[j] += x[c + j];
  double s = (a[0] + a[1]) + (a[2] + a[3]);
  for (; c < C; c++) s += x[c];
  return s;
}

MULTIVERSION
static void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* w, const float* b, size_t N,
                              size_t C, double eps) {
  for (size_t n = 0; n < N; n++) {
    const float* x = inp + n * C;
    float* y = out + n * C;
    const double m = row_sum(x, C) / (double)C;
    double v[4] = {0, 0, 0, 0};
    size_t c = 0;
    for (; c + 4 <= C; c += 4)
      for (int j = 0; j < 4; j++) v[j] += (x[c + j] - m) * (x[c + j] - m);
    double var = (v[0] + v[1]) + (v[2] + v[3]);
    for (; c < C; c++) var += (x[c] - m) * (x[c] - m);
    var /= (double)C;
    const double s = 1.0 / sqrt(var + eps);
    for (c = 0; c < C; c++) y[c] = (float)((x[c] - m) * s * w[c] + (b ? b[c] : 0.0));
    mean[n] = (float)m;
    rstd[n] = (float)s;
  }
}

MULTIVERSION
static void layernorm_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                               const float* mean, const float* rstd, size_t N, size_t C) {
  for (size_t n = 0; n < N; n++) {
    const float* x = inp + n * C;
    const float* g = dout + n * C;
    const double m = mean[n], s = rstd[n];
    double a[4] = {0, 0, 0, 0}, bb[4] = {0, 0, 0, 0};
    size_t c = 0;
    for (; c + 4 <= C; c += 4) {
      for (int j = 0; j < 4; j++) {
        const double norm = (x[c + j] - m) * s, dnorm = (double)w[c + j] * g[c + j];
        a[j] += dnorm;
        bb[j] += dnorm * norm;
      }
    }
    double dm = (a[0] + a[1]) + (a[2] + a[3]), dnm = (bb[0] + bb[1]) + (bb[2] + bb[3]);
    for (; c < C; c++) {
      const double norm = (x[c] - m) * s, dnorm = (double)w[c] * g[c];
      dm += dnorm;
      dnm += dnorm * norm;
    }
    dm /= (double)C;
    dnm /= (double)C;
    for (c = 0; c < C; c++) {
      const double norm = (x[c] - m) * s;
      if (db) db[c] = (float)(db[c] + (double)g[c]);
      if (dw) dw[c] = (float)(dw[c] + norm * g[c]);
      if (dinp) dinp[n * C + c] = (float)(dinp[n * C + c] + s * ((double)w[c] * g[c] - dm - norm * dnm));
    }
  }
}

MULTIVERSION
static void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* w, size_t N, size_t C, double eps) {
  for (size_t n = 0; n < N; n++) {
    const float* x = inp + n * C;
    double a[4] = {0, 0, 0, 0};
    size_t c = 0;
    for (; c + 4 <= C; c += 4)
      for (int j = 0; j < 4; j++) a[j] += (double)x[c + j] * x[c + j];
    double ss = (a[0] + a[1]) + (a[2] + a[3]);
    for (; c < C; c++) ss += (double)x[c] * x[c];
    const double s = 1.0 / sqrt(ss / (double)C + eps);
    for (c = 0; c < C; c++) out[n * C + c] = (float)(x[c] * s * w[c]);
    rstd[n] = (float)s;
  }
}

MULTIVERSION
static void rmsnorm_backward(float* dinp, float* dw, const float* dout, const float* inp, const float* w, const float* rstd,
                             size_t N, size_t C) {
  for (size_t n = 0; n < N; n++) {
    const float* x = inp + n * C;
    const float* g = dout + n * C;
    const double s = rstd[n];
    double a[4] = {0, 0, 0, 0};
    size_t c = 0;
    for (; c + 4 <= C; c += 4)
      for (int j = 0; j < 4; j++) a[j] += (double)g[c + j] * w[c + j] * x[c + j];
    double dot = (a[0] + a[1]) + (a[2] + a[3]);
    for (; c < C; c++) dot += (double)g[c] * w[c] * x[c];
    const double k = (s * s * dot) / (double)C;
    for (c = 0; c < C; c++) {
      if (dw) dw[c] = (float)(dw[c] + (double)g[c] * x[c] * s);
      if (dinp) dinp[n * C + c] = (float)(dinp[n * C + c] + s * ((double)g[c] * w[c] - x[c] * k));
    }
  }
}

/* A Float32Array argument that may be null, at least `need` long; false (with a JS exception) otherwise. */
static bool get_f32_opt(napi_env env, napi_value v, float** data, size_t need, const char* name) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_null) {
    *data = NULL;
    return true;
  }
  size_t len;
  if (!get_f32(env, v, data, &len, name)) return false;
  if (len < need) {
    char msg[96];
    snprintf(msg, sizeof msg, "rrhf-native: %s has %zu values, needs %zu", name, len, need);
    napi_throw_range_error(env, NULL, msg);
    return false;
  }
  return true;
}

/* Reads argv[first..first+count) as Float32Arrays (nullable where `nullable[i]`) of at least need[i] values. */
static bool get_buffers(napi_env env, napi_value* argv, float** bufs, const size_t* need, const bool* nullable, int count,
                        const char* op) {
  for (int i = 0; i < count; i++) {
    char name[48];
    snprintf(name, sizeof name, "%s argument %d", op, i + 1);
    if (!get_f32_opt(env, argv[i], &bufs[i], need[i], name)) return false;
    if (!bufs[i] && !nullable[i]) {
      napi_throw_type_error(env, NULL, "rrhf-native: a required buffer is null");
      return false;
    }
  }
  return true;
}

static bool get_dims(napi_env env, napi_value vn, napi_value vc, size_t* N, size_t* C) {
  double n, c;
  if (napi_get_value_double(env, vn, &n) != napi_ok || napi_get_value_double(env, vc, &c) != napi_ok || !(n >= 0) || !(c >= 1) ||
      n != (double)(size_t)n || c != (double)(size_t)c) {
    napi_throw_range_error(env, NULL, "rrhf-native: N and C must be integers, N >= 0, C >= 1");
    return false;
  }
  *N = (size_t)n;
  *C = (size_t)c;
  return true;
}

/* layernormForward(out, mean, rstd, inp, weight, bias|null, N, C, eps) */
static napi_value LayernormForward(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t N, C;
  double eps;
  if (argc != 9 || !get_dims(env, argv[6], argv[7], &N, &C)) return NULL;
  CHECK(env, napi_get_value_double(env, argv[8], &eps));
  float* b[6];
  const size_t need[6] = {N * C, N, N, N * C, C, C};
  const bool nullable[6] = {false, false, false, false, false, true};
  if (!get_buffers(env, argv, b, need, nullable, 6, "layernormForward")) return NULL;
  layernorm_forward(b[0], b[1], b[2], b[3], b[4], b[5], N, C, eps);
  return NULL;
}

/* layernormBackward(dinp|null, dweight|null, dbias|null, dout, inp, weight, mean, rstd, N, C) */
static napi_value LayernormBackward(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t N, C;
  if (argc != 10 || !get_dims(env, argv[8], argv[9], &N, &C)) return NULL;
  float* b[8];
  const size_t need[8] = {N * C, C, C, N * C, N * C, C, N, N};
  const bool nullable[8] = {true, true, true, false, false, false, false, false};
  if (!get_buffers(env, argv, b, need, nullable, 8, "layernormBackward")) return NULL;
  layernorm_backward(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], N, C);
  return NULL;
}

/* rmsnormForward(out, rstd, inp, weight, N, C, eps) */
static napi_value RmsnormForward(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t N, C;
  double eps;
  if (argc != 7 || !get_dims(env, argv[4], argv[5], &N, &C)) return NULL;
  CHECK(env, napi_get_value_double(env, argv[6], &eps));
  float* b[4];
  const size_t need[4] = {N * C, N, N * C, C};
  const bool nullable[4] = {false, false, false, false};
  if (!get_buffers(env, argv, b, need, nullable, 4, "rmsnormForward")) return NULL;
  rmsnorm_forward(b[0], b[1], b[2], b[3], N, C, eps);
  return NULL;
}

/* rmsnormBackward(dinp|null, dweight|null, dout, inp, weight, rstd, N, C) */
static napi_value RmsnormBackward(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t N, C;
  if (argc != 8 || !get_dims(env, argv[6], argv[7], &N, &C)) return NULL;
  float* b[6];
  const size_t need[6] = {N * C, C, N * C, N * C, C, N};
  const bool nullable[6] = {true, true, false, false, false, false};
  if (!get_buffers(env, argv, b, need, nullable, 6, "rmsnormBackward")) return NULL;
  rmsnorm_backward(b[0], b[1], b[2], b[3], b[4], b[5], N, C);
  return NULL;
}

/* The fused decode-step attention and GELU/SiLU forward (kernels and N-API wrappers): they use the helpers above. */
#include "activations.h"
#include "decode_attention.h"

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(env, napi_get_value_int32(env, argv[0], &n));
  openblas_set_num_threads(n);
  small_gemm_threads = n;
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
    {"layernormForward", NULL, LayernormForward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"layernormBackward", NULL, LayernormBackward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"rmsnormForward", NULL, RmsnormForward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"rmsnormBackward", NULL, RmsnormBackward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decodeAttention", NULL, DecodeAttention, NULL, NULL, NULL, napi_enumerable, NULL},
    {"geluForward", NULL, GeluForward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"siluForward", NULL, SiluForward, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
