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
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
