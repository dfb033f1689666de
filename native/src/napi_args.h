/*
 * N-API argument helpers of the addon's kernels: Float32Array buffers (checked
 * for type and length; some may be null) and row/column counts. Included once
 * by rrhf_native.c.
 */
#ifndef RRHF_NAPI_ARGS_H
#define RRHF_NAPI_ARGS_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
    char msg[96];
    snprintf(msg, sizeof msg, "rrhf-native: %s must be a Float32Array", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  /* An empty array may have no data pointer; a non-null one keeps "null" meaning only a JS null argument. */
  static float empty[1];
  *data = ptr != NULL ? (float*)ptr : empty;
  return true;
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
    char msg[160];
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

/* Reads the call's arguments into argv[0..count); false with a JS TypeError naming `op` when it passed another number. */
static bool get_args(napi_env env, napi_callback_info info, napi_value* argv, size_t count, const char* op) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "rrhf-native: napi_get_cb_info failed");
    return false;
  }
  if (argc != count) {
    char msg[128];
    snprintf(msg, sizeof msg, "rrhf-native: %s takes %zu argument%s, got %zu", op, count, count == 1 ? "" : "s", argc);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}

/* A whole number of values, >= 0 (a JS number: doubles hold every length a Float32Array can have). */
static bool get_count(napi_env env, napi_value v, size_t* n) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d != (double)(size_t)d) {
    napi_throw_range_error(env, NULL, "rrhf-native: n must be an integer >= 0");
    return false;
  }
  *n = (size_t)d;
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

/* The arguments of sgemm and sgemmBf16: (transA, transB, M, N, K, alpha, A, B, beta, C), row-major. */
typedef struct {
  bool ta, tb;
  int32_t M, N, K;
  double alpha, beta;
  float *A, *B, *C;
} gemm_args;

/*
 * Reads and checks a gemm call's ten arguments (`name` in messages); false
 * with a JS exception when a type or a shape does not fit its buffers.
 */
static bool get_gemm_args(napi_env env, napi_callback_info info, const char* name, gemm_args* g) {
  size_t argc = 10;
  napi_value argv[10];
  char msg[96];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 10) {
    snprintf(msg, sizeof msg, "rrhf-native: %s takes 10 arguments", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  CHECK(env, napi_get_value_bool(env, argv[0], &g->ta));
  CHECK(env, napi_get_value_bool(env, argv[1], &g->tb));
  CHECK(env, napi_get_value_int32(env, argv[2], &g->M));
  CHECK(env, napi_get_value_int32(env, argv[3], &g->N));
  CHECK(env, napi_get_value_int32(env, argv[4], &g->K));
  CHECK(env, napi_get_value_double(env, argv[5], &g->alpha));
  CHECK(env, napi_get_value_double(env, argv[8], &g->beta));
  size_t la, lb, lc;
  if (!get_f32(env, argv[6], &g->A, &la, "A") || !get_f32(env, argv[7], &g->B, &lb, "B") ||
      !get_f32(env, argv[9], &g->C, &lc, "C")) {
    return false;
  }
  const int32_t M = g->M, N = g->N, K = g->K;
  if (M < 0 || N < 0 || K < 1 || la < (size_t)M * K || lb < (size_t)K * N || lc < (size_t)M * N) {
    snprintf(msg, sizeof msg, "rrhf-native: %s shapes do not fit the buffers (K must be >= 1)", name);
    napi_throw_range_error(env, NULL, msg);
    return false;
  }
  return true;
}

#endif
