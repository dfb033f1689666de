/*
 * GELU (tanh form) and SiLU forward over plain buffers: the loops of
 * kernels/ref/activations.ts in float32, 16 lanes at a time with a
 * polynomial exp where the CPU has AVX-512 (relative error ~2e-7), libm's
 * expf otherwise. The native backend otherwise lends the WASM kernels, which
 * copy plain buffers into WASM memory and back: about 1.5 ms of a GPT-2-small
 * decode step for 12 small GELUs. Backward stays with the WASM kernels.
 * Included by rrhf_native.c after its argument helpers (get_f32, CHECK).
 */
#ifndef RRHF_ACTIVATIONS_H
#define RRHF_ACTIVATIONS_H

#include <math.h>
#include <stddef.h>

#define ACT_GELU_K 0.7978845608028654f /* sqrt(2 / pi) */

static void act_gelu_plain(float* out, const float* inp, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float x = inp[i];
    out[i] = 0.5f * x * (1.0f + tanhf(ACT_GELU_K * (x + 0.044715f * x * x * x)));
  }
}

static void act_silu_plain(float* out, const float* inp, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = inp[i] / (1.0f + expf(-inp[i]));
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define ACT_AVX512 1
#define ACT_TARGET __attribute__((target("avx512f")))

/*
 * e^x, x clamped to [-104, 88] (0 and the largest float32 power there):
 * 2^n * p(r), r = x - n ln2 in [-ln2/2, ln2/2], p the degree-6 Taylor
 * polynomial (relative error < 2e-7). Also the decode attention's softmax exp.
 */
ACT_TARGET static inline __m512 act_exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(88.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145752f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860677e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

/* gelu(x) = 0.5 x (1 + tanh(u)) = x - x / (e^(2u) + 1): no cancellation near u = 0, exact limits at both ends. */
ACT_TARGET static void act_gelu512(float* out, const float* inp, size_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(m, inp + i);
    const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
    const __m512 u2 = _mm512_mul_ps(_mm512_set1_ps(2.0f * ACT_GELU_K), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
    const __m512 y = _mm512_sub_ps(x, _mm512_div_ps(x, _mm512_add_ps(act_exp512(u2), one)));
    _mm512_mask_storeu_ps(out + i, m, y);
  }
}

ACT_TARGET static void act_silu512(float* out, const float* inp, size_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(m, inp + i);
    const __m512 e = act_exp512(_mm512_sub_ps(_mm512_setzero_ps(), x));
    _mm512_mask_storeu_ps(out + i, m, _mm512_div_ps(x, _mm512_add_ps(e, one)));
  }
}
#endif

/* geluForward / siluForward(out, inp, n): `silu` picks the function. */
static napi_value activation_forward(napi_env env, napi_callback_info info, bool silu) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *out, *inp;
  size_t lo, li;
  double nd;
  if (argc != 3 || !get_f32(env, argv[0], &out, &lo, "out") || !get_f32(env, argv[1], &inp, &li, "inp")) return NULL;
  CHECK(env, napi_get_value_double(env, argv[2], &nd));
  if (!(nd >= 0) || nd != (double)(size_t)nd || (size_t)nd > lo || (size_t)nd > li) {
    napi_throw_range_error(env, NULL, "rrhf-native: activation n must be an integer within both buffers");
    return NULL;
  }
  const size_t n = (size_t)nd;
#ifdef ACT_AVX512
  if (__builtin_cpu_supports("avx512f")) {
    if (silu) act_silu512(out, inp, n);
    else act_gelu512(out, inp, n);
    return NULL;
  }
#endif
  if (silu) act_silu_plain(out, inp, n);
  else act_gelu_plain(out, inp, n);
  return NULL;
}

static napi_value GeluForward(napi_env env, napi_callback_info info) { return activation_forward(env, info, false); }
static napi_value SiluForward(napi_env env, napi_callback_info info) { return activation_forward(env, info, true); }

#endif
