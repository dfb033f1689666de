/*
 * The attention of one decode step for the sequences of one prompt (one
 * layer), fused: each sequence's new key/value goes into its own cache slot,
 * then every query head attends over the prompt's keys and the sequence's own
 * in one pass (scores, softmax, weighted values), head by head so a head's
 * prompt keys and values stay in cache for all the prompt's continuations.
 * The loops of kernels/ref/decode-attention.ts in float32 (sums in 16 lanes,
 * so they vectorise); it replaces per-head BLAS calls and JavaScript loops
 * that took as long as the step's weight products on GPT-2 small. Included
 * by rrhf_native.c after its argument helpers (get_f32).
 */
#ifndef RRHF_DECODE_ATTENTION_H
#define RRHF_DECODE_ATTENTION_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int s0, s1, Hq, Hkv, D, M, P;
  float scale;
} decode_dims;

MULTIVERSION
static float da_dot(const float* restrict a, const float* restrict b, int D) {
  float acc[16] = {0};
  int i = 0;
  for (; i + 16 <= D; i += 16)
    for (int j = 0; j < 16; j++) acc[j] += a[i + j] * b[i + j];
  float s = 0;
  for (int j = 0; j < 16; j++) s += acc[j];
  for (; i < D; i++) s += a[i] * b[i];
  return s;
}

MULTIVERSION
static void da_axpy(float* restrict y, float w, const float* restrict x, int D) {
  for (int i = 0; i < D; i++) y[i] += w * x[i];
}

/* One query row: out[D] = softmax(scale * q . keys) . values over the P prompt keys then `own` own keys; w: P + own floats. */
static void da_row(float* out, const float* q, const float* pk, const float* pv, const float* ok, const float* ov, int P, int own,
                   int D, float scale, float* w) {
  float max = -INFINITY;
  for (int t = 0; t < P; t++) {
    w[t] = scale * da_dot(q, pk + (size_t)t * D, D);
    if (w[t] > max) max = w[t];
  }
  for (int t = 0; t < own; t++) {
    w[P + t] = scale * da_dot(q, ok + (size_t)t * D, D);
    if (w[P + t] > max) max = w[P + t];
  }
  float sum = 0;
  for (int t = 0; t < P + own; t++) {
    w[t] = expf(w[t] - max);
    sum += w[t];
  }
  memset(out, 0, (size_t)D * sizeof(float));
  for (int t = 0; t < P; t++) da_axpy(out, w[t], pv + (size_t)t * D, D);
  for (int t = 0; t < own; t++) da_axpy(out, w[P + t], ov + (size_t)t * D, D);
  const float inv = 1.0f / sum;
  for (int i = 0; i < D; i++) out[i] *= inv;
}

/* Buffers: out, q, k, v, promptK, promptV, ownK, ownV; lengths already checked (< M). False when out of memory. */
static bool decode_attention(float* const* f, const int32_t* lengths, decode_dims d) {
  const int G = d.Hq / d.Hkv;
  const size_t D = (size_t)d.D, M = (size_t)d.M, P = (size_t)d.P;
  for (int b = d.s0; b < d.s1; b++)
    for (int h = 0; h < d.Hkv; h++) {
      const size_t src = ((size_t)b * d.Hkv + h) * D, dst = (((size_t)b * d.Hkv + h) * M + (size_t)lengths[b]) * D;
      memcpy(f[6] + dst, f[2] + src, D * sizeof(float));
      memcpy(f[7] + dst, f[3] + src, D * sizeof(float));
    }
  float* w = malloc((P + M) * sizeof(float));
  if (w == NULL) return false;
  for (int h = 0; h < d.Hkv; h++) {
    const float *pk = f[4] + h * P * D, *pv = f[5] + h * P * D;
    for (int b = d.s0; b < d.s1; b++) {
      const size_t own = ((size_t)b * d.Hkv + h) * M * D;
      for (int g = 0; g < G; g++) {
        const size_t row = ((size_t)b * d.Hq + (size_t)h * G + g) * D;
        da_row(f[0] + row, f[1] + row, pk, pv, f[6] + own, f[7] + own, d.P, lengths[b] + 1, d.D, d.scale, w);
      }
    }
  }
  free(w);
  return true;
}

/* decodeAttention(out, q, k, v, promptK, promptV, ownK, ownV, lengths, dims Int32Array [s0, s1, Hq, Hkv, D, M, P], scale) */
static napi_value DecodeAttention(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) {
    napi_throw_type_error(env, NULL, "rrhf-native: decodeAttention takes 11 arguments");
    return NULL;
  }
  int32_t* ints[2];
  size_t nint[2];
  for (int i = 0; i < 2; i++) {
    bool is_ta = false;
    napi_typedarray_type type;
    if (napi_is_typedarray(env, argv[8 + i], &is_ta) != napi_ok || !is_ta ||
        napi_get_typedarray_info(env, argv[8 + i], &type, &nint[i], (void**)&ints[i], NULL, NULL) != napi_ok ||
        type != napi_int32_array) {
      napi_throw_type_error(env, NULL, "rrhf-native: decodeAttention lengths and dims must be Int32Arrays");
      return NULL;
    }
  }
  const int32_t* dm = ints[1];
  double scale;
  CHECK(env, napi_get_value_double(env, argv[10], &scale));
  if (nint[1] != 7 || dm[0] < 0 || dm[1] < dm[0] || dm[2] < 1 || dm[3] < 1 || dm[2] % dm[3] != 0 || dm[4] < 1 || dm[5] < 1 ||
      dm[6] < 0 || nint[0] < (size_t)dm[1]) {
    napi_throw_range_error(env, NULL, "rrhf-native: decodeAttention dims are invalid");
    return NULL;
  }
  const decode_dims d = {dm[0], dm[1], dm[2], dm[3], dm[4], dm[5], dm[6], (float)scale};
  const size_t B = (size_t)d.s1, D = (size_t)d.D;
  const size_t need[8] = {B * d.Hq * D, B * d.Hq * D, B * d.Hkv * D, B * d.Hkv * D, (size_t)d.Hkv * d.P * D, (size_t)d.Hkv * d.P * D,
                          B * d.Hkv * d.M * D, B * d.Hkv * d.M * D};
  float* f[8];
  for (int i = 0; i < 8; i++) {
    size_t len;
    if (!get_f32(env, argv[i], &f[i], &len, "decodeAttention buffer")) return NULL;
    if (len < need[i]) {
      napi_throw_range_error(env, NULL, "rrhf-native: decodeAttention buffers do not fit the dims");
      return NULL;
    }
  }
  for (int b = d.s0; b < d.s1; b++)
    if (ints[0][b] < 0 || ints[0][b] >= d.M) {
      napi_throw_range_error(env, NULL, "rrhf-native: decodeAttention: a sequence is full (lengths[b] >= M)");
      return NULL;
    }
  if (!decode_attention(f, ints[0], d)) napi_throw_error(env, NULL, "rrhf-native: decodeAttention: out of memory");
  return NULL;
}

#endif
