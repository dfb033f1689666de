/*
 * The attention of one decode step for the sequences of one prompt (one
 * layer), fused: each sequence's new key/value goes into its own cache slot,
 * then every query head attends over the prompt's keys and the sequence's own
 * in one pass (scores, softmax, weighted values), head by head so a head's
 * prompt keys and values stay in cache for all the prompt's continuations.
 * The loops of kernels/ref/decode-attention.ts in float32 (AVX-512 where
 * the CPU has it and D is a multiple of 16, else plain C); it replaces
 * per-head BLAS calls and JavaScript loops that took about a quarter of a
 * GPT-2-small step. Included by rrhf_native.c after its argument helpers
 * (get_f32, MULTIVERSION) and small_gemm.h (small_gemm_threads: the backend's thread count).
 */
#ifndef RRHF_DECODE_ATTENTION_H
#define RRHF_DECODE_ATTENTION_H

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "activations.h"

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

/* Softmax in place over w[0..n) (max-shifted); returns 1 / sum. */
static float da_softmax(float* w, int n, float max) {
  float sum = 0;
  for (int t = 0; t < n; t++) {
    w[t] = expf(w[t] - max);
    sum += w[t];
  }
  return 1.0f / sum;
}

/* One query row: out[D] = softmax(scale * q . keys) . values over the P prompt keys then `own` own keys; w: P + own floats. */
static void da_row(float* out, const float* q, const float* pk, const float* pv, const float* ok, const float* ov, int P, int own,
                   int D, float scale, float* w) {
  float max = -INFINITY;
  for (int t = 0; t < P + own; t++) {
    w[t] = scale * da_dot(q, t < P ? pk + (size_t)t * D : ok + (size_t)(t - P) * D, D);
    if (w[t] > max) max = w[t];
  }
  const float inv = da_softmax(w, P + own, max);
  memset(out, 0, (size_t)D * sizeof(float));
  for (int t = 0; t < P + own; t++) da_axpy(out, w[t], t < P ? pv + (size_t)t * D : ov + (size_t)(t - P) * D, D);
  for (int i = 0; i < D; i++) out[i] *= inv;
}

#ifdef ACT_AVX512
#define DA_AVX512 1
#define DA_MAX_VECS 8
/* In place over w[0..n): e^(w - max), 16 at a time (act_exp512 of activations.h); returns 1 / sum. */
__attribute__((target("avx512f"))) static float da_softmax512(float* w, int n, float max) {
  const __m512 m = _mm512_set1_ps(max);
  __m512 sum = _mm512_setzero_ps();
  for (int t = 0; t < n; t += 16) {
    const __mmask16 k = n - t >= 16 ? 0xFFFF : (__mmask16)((1u << (n - t)) - 1);
    const __m512 e = act_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, w + t), m));
    _mm512_mask_storeu_ps(w + t, k, e);
    sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(k, e));
  }
  return 1.0f / _mm512_reduce_add_ps(sum);
}

/*
 * da_row for D a multiple of 16, D <= 128, with AVX-512: q and the output
 * stay in registers, each key's dot product is one vector chain reduced
 * once. The plain version's per-key calls and ordered 16-lane sums made this
 * attention take as long as the step's weight products.
 */
__attribute__((target("avx512f"))) static void da_row_avx512(float* out, const float* q, const float* pk, const float* pv,
                                                             const float* ok, const float* ov, int P, int own, int D, float scale,
                                                             float* w) {
  const int V = D / 16;
  __m512 qv[DA_MAX_VECS], acc[DA_MAX_VECS];
  for (int j = 0; j < V; j++) qv[j] = _mm512_mul_ps(_mm512_set1_ps(scale), _mm512_loadu_ps(q + 16 * j));
  float max = -INFINITY;
  for (int t = 0; t < P + own; t++) {
    const float* key = t < P ? pk + (size_t)t * D : ok + (size_t)(t - P) * D;
    __m512 s = _mm512_mul_ps(qv[0], _mm512_loadu_ps(key));
    for (int j = 1; j < V; j++) s = _mm512_fmadd_ps(qv[j], _mm512_loadu_ps(key + 16 * j), s);
    w[t] = _mm512_reduce_add_ps(s);
    if (w[t] > max) max = w[t];
  }
  const float inv = da_softmax512(w, P + own, max);
  for (int j = 0; j < V; j++) acc[j] = _mm512_setzero_ps();
  for (int t = 0; t < P + own; t++) {
    const float* val = t < P ? pv + (size_t)t * D : ov + (size_t)(t - P) * D;
    const __m512 wt = _mm512_set1_ps(w[t] * inv);
    for (int j = 0; j < V; j++) acc[j] = _mm512_fmadd_ps(wt, _mm512_loadu_ps(val + 16 * j), acc[j]);
  }
  for (int j = 0; j < V; j++) _mm512_storeu_ps(out + 16 * j, acc[j]);
}
#endif

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
  void (*row_fn)(float*, const float*, const float*, const float*, const float*, const float*, int, int, int, float, float*) = da_row;
#ifdef DA_AVX512
  if (d.D % 16 == 0 && d.D <= 16 * DA_MAX_VECS && __builtin_cpu_supports("avx512f")) row_fn = da_row_avx512;
#endif
  /* (head, sequence) pairs split over the backend's threads, head-major so each thread reuses a head's prompt cache. */
  const int nb = d.s1 - d.s0, pairs = d.Hkv * nb;
  const int threads = pairs < 2 ? 1 : small_gemm_threads < pairs ? small_gemm_threads : pairs;
  float* w = malloc((size_t)threads * (P + M) * sizeof(float));
  if (w == NULL) return false;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int i = 0; i < pairs; i++) {
    const int h = i / nb, b = d.s0 + i % nb;
#ifdef _OPENMP
    float* wt = w + (size_t)omp_get_thread_num() * (P + M);
#else
    float* wt = w;
#endif
    const float *pk = f[4] + h * P * D, *pv = f[5] + h * P * D;
    const size_t own = ((size_t)b * d.Hkv + h) * M * D;
    for (int g = 0; g < G; g++) {
      const size_t row = ((size_t)b * d.Hq + (size_t)h * G + g) * D;
      row_fn(f[0] + row, f[1] + row, pk, pv, f[6] + own, f[7] + own, d.P, lengths[b] + 1, d.D, d.scale, wt);
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
