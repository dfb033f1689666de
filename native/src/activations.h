/*
 * The AVX-512 exp the decode attention's softmax uses (a polynomial, relative
 * error ~2e-7). GELU and SiLU themselves are pointwise.h's kernels (forward
 * and backward, threaded), which serve decoding and training alike.
 * Included by rrhf_native.c after its argument helpers.
 */
#ifndef RRHF_ACTIVATIONS_H
#define RRHF_ACTIVATIONS_H

#include <math.h>
#include <stddef.h>

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

#endif

#endif
