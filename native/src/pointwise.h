/*
 * Pointwise activations (GELU tanh form, SiLU) and the row softmax pieces
 * (log-sum-exp per row, scaled softmax in place), the kernels of
 * kernels/ref/activations.ts and ref/row-softmax.ts. Why here and not lent
 * from the WASM module: the native backend's buffers live outside WASM
 * memory, so every lent call copied its operands in and out, on one thread.
 *
 * Same math as the WASM kernels (src/kernels/wasm/assembly/pointwise.ts):
 * Cephes expf polynomial, tanh(y) = 1 - 2 / (e^{2y} + 1) with |y| clamped at
 * 10, row sums of exp in float lanes per block of 256 then in double. AVX2
 * where the CPU has it, plain C otherwise; large calls are split over the
 * backend's threads (OpenMP) in chunks that do not depend on the thread
 * count, so results are the same for any --threads. Backward ACCUMULATES.
 * Included once by rrhf_native.c (after small_gemm.h, napi_args.h and
 * thread_parts).
 */
#ifndef RRHF_POINTWISE_H
#define RRHF_POINTWISE_H

#include <math.h>
#include <stddef.h>

enum { PW_GELU_FWD, PW_GELU_BWD, PW_SILU_FWD, PW_SILU_BWD };

#define PW_EXP_LO -87.0f
#define PW_EXP_HI 88.0f
#define PW_LOG2E 1.44269504f
#define PW_LN2_HI 0.693359375f
#define PW_LN2_LO -2.12194440e-4f
#define PW_GELU_K 0.7978845608f
#define PW_GELU_C 0.044715f
#define PW_TANH_CLAMP 10.0f
/* Below this many values per thread, waking a second thread costs more than it saves. */
#define PW_MIN_PER_THREAD 32768
/* Rows of a row-kernel call are handed out in blocks of this many values at least. */
#define PW_ROW_BLOCK 16384

/* ---- plain C (any CPU): the same operations one value at a time ---- */

static inline float pw_exp1(float x) {
  if (x != x) return x;
  x = x < PW_EXP_LO ? PW_EXP_LO : x > PW_EXP_HI ? PW_EXP_HI : x;
  const float n = nearbyintf(x * PW_LOG2E);
  float r = x - n * PW_LN2_HI;
  r = r - n * PW_LN2_LO;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  return ldexpf(y, (int)n);
}

static inline float pw_tanh1(float y) {
  y = y < -PW_TANH_CLAMP ? -PW_TANH_CLAMP : y > PW_TANH_CLAMP ? PW_TANH_CLAMP : y;
  return 1.0f - 2.0f / (pw_exp1(y + y) + 1.0f);
}

static inline float pw_apply1(int op, float x, float g) {
  if (op == PW_GELU_FWD || op == PW_GELU_BWD) {
    const float t = pw_tanh1(PW_GELU_K * (x + PW_GELU_C * (x * x * x)));
    if (op == PW_GELU_FWD) return 0.5f * x * (1.0f + t);
    const float dt = PW_GELU_K * (1.0f + 3.0f * PW_GELU_C * (x * x)) * (1.0f - t * t);
    return g * (0.5f * (1.0f + t) + 0.5f * x * dt);
  }
  const float s = 1.0f / (1.0f + pw_exp1(-x));
  return op == PW_SILU_FWD ? x * s : g * (s * (1.0f + x * (1.0f - s)));
}

static void pw_plain(int op, float* out, const float* inp, const float* dout, size_t a, size_t b) {
  const bool bwd = op == PW_GELU_BWD || op == PW_SILU_BWD;
  for (size_t i = a; i < b; i++) {
    const float v = pw_apply1(op, inp[i], bwd ? dout[i] : 0.0f);
    out[i] = bwd ? out[i] + v : v;
  }
}

static void pw_lse_plain(float* lse, const float* x, size_t i0, size_t i1, size_t C) {
  for (size_t i = i0; i < i1; i++) {
    const float* row = x + i * C;
    float top = -INFINITY;
    for (size_t j = 0; j < C; j++) top = row[j] > top || row[j] != row[j] ? row[j] : top;
    double sum = 0;
    for (size_t j = 0; j < C; j++) sum += pw_exp1(row[j] - top);
    lse[i] = (float)((double)top + log(sum));
  }
}

static void pw_softmax_plain(float* x, const float* lse, const float* scale, size_t i0, size_t i1, size_t C) {
  for (size_t i = i0; i < i1; i++)
    for (size_t j = 0; j < C; j++) x[i * C + j] = scale[i] * pw_exp1(x[i * C + j] - lse[i]);
}

/* ---- AVX2 ---- */
#ifdef SMALL_GEMM_SIMD
#define PW_SIMD 1

/* max/min with x second: x86 returns the second operand when either is NaN, so NaN passes through. */
SMALL_GEMM_TARGET static inline __m256 pw_exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(PW_EXP_HI), _mm256_max_ps(_mm256_set1_ps(PW_EXP_LO), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(PW_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(PW_LN2_HI)));
  r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(PW_LN2_LO)));
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, r), r), r), _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

SMALL_GEMM_TARGET static inline __m256 pw_apply8(int op, __m256 x, __m256 g) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 half = _mm256_set1_ps(0.5f);
  if (op == PW_GELU_FWD || op == PW_GELU_BWD) {
    const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    __m256 y = _mm256_mul_ps(_mm256_set1_ps(PW_GELU_K), _mm256_add_ps(x, _mm256_mul_ps(_mm256_set1_ps(PW_GELU_C), x3)));
    y = _mm256_min_ps(_mm256_set1_ps(PW_TANH_CLAMP), _mm256_max_ps(_mm256_set1_ps(-PW_TANH_CLAMP), y));
    const __m256 t = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(pw_exp8(_mm256_add_ps(y, y)), one)));
    if (op == PW_GELU_FWD) return _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, t));
    const __m256 poly = _mm256_add_ps(one, _mm256_mul_ps(_mm256_set1_ps(3.0f * PW_GELU_C), _mm256_mul_ps(x, x)));
    const __m256 dt = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(PW_GELU_K), poly), _mm256_sub_ps(one, _mm256_mul_ps(t, t)));
    return _mm256_mul_ps(g, _mm256_add_ps(_mm256_mul_ps(half, _mm256_add_ps(one, t)), _mm256_mul_ps(_mm256_mul_ps(half, x), dt)));
  }
  const __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, pw_exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
  if (op == PW_SILU_FWD) return _mm256_mul_ps(x, s);
  return _mm256_mul_ps(g, _mm256_mul_ps(s, _mm256_add_ps(one, _mm256_mul_ps(x, _mm256_sub_ps(one, s)))));
}

/* Tails go through the vector path on a padded copy, so every value takes the same arithmetic. */
SMALL_GEMM_TARGET static void pw_avx2(int op, float* out, const float* inp, const float* dout, size_t a, size_t b) {
  const bool bwd = op == PW_GELU_BWD || op == PW_SILU_BWD;
  size_t i = a;
  for (; i + 8 <= b; i += 8) {
    const __m256 v = pw_apply8(op, _mm256_loadu_ps(inp + i), bwd ? _mm256_loadu_ps(dout + i) : _mm256_setzero_ps());
    _mm256_storeu_ps(out + i, bwd ? _mm256_add_ps(_mm256_loadu_ps(out + i), v) : v);
  }
  if (i == b) return;
  float xi[8] = {0}, gi[8] = {0}, r[8];
  for (size_t k = i; k < b; k++) {
    xi[k - i] = inp[k];
    if (bwd) gi[k - i] = dout[k];
  }
  _mm256_storeu_ps(r, pw_apply8(op, _mm256_loadu_ps(xi), _mm256_loadu_ps(gi)));
  for (size_t k = i; k < b; k++) out[k] = bwd ? out[k] + r[k - i] : r[k - i];
}

SMALL_GEMM_TARGET static inline double pw_hsum_f64(__m256 v) {
  float l[8];
  _mm256_storeu_ps(l, v);
  return (((double)l[0] + l[1]) + ((double)l[2] + l[3])) + (((double)l[4] + l[5]) + ((double)l[6] + l[7]));
}

SMALL_GEMM_TARGET static void pw_lse_avx2(float* lse, const float* x, size_t i0, size_t i1, size_t C) {
  const size_t cv = C & ~(size_t)7;
  for (size_t i = i0; i < i1; i++) {
    const float* row = x + i * C;
    __m256 mv = _mm256_set1_ps(-INFINITY);
    size_t j = 0;
    for (; j < cv; j += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(row + j));
    float l[8];
    _mm256_storeu_ps(l, mv);
    float top = l[0];
    for (int k = 1; k < 8; k++) top = l[k] > top ? l[k] : top;
    for (; j < C; j++) top = row[j] > top ? row[j] : top;
    /* A NaN anywhere makes the sum NaN below (exp passes NaN through), as in the reference. */
    const __m256 mx = _mm256_set1_ps(top);
    double sum = 0;
    for (j = 0; j < cv;) {
      const size_t end = cv < j + 256 ? cv : j + 256;
      __m256 acc = _mm256_setzero_ps();
      for (; j < end; j += 8) acc = _mm256_add_ps(acc, pw_exp8(_mm256_sub_ps(_mm256_loadu_ps(row + j), mx)));
      sum += pw_hsum_f64(acc);
    }
    for (; j < C; j++) sum += (double)pw_exp1(row[j] - top);
    lse[i] = (float)((double)top + log(sum));
  }
}

SMALL_GEMM_TARGET static void pw_softmax_avx2(float* x, const float* lse, const float* scale, size_t i0, size_t i1, size_t C) {
  const size_t cv = C & ~(size_t)7;
  for (size_t i = i0; i < i1; i++) {
    float* row = x + i * C;
    const __m256 lv = _mm256_set1_ps(lse[i]);
    const __m256 gv = _mm256_set1_ps(scale[i]);
    size_t j = 0;
    for (; j < cv; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(gv, pw_exp8(_mm256_sub_ps(_mm256_loadu_ps(row + j), lv))));
    for (; j < C; j++) row[j] = scale[i] * pw_exp1(row[j] - lse[i]);
  }
}
#endif

/* AVX2 when the CPU has it; RRHF_SMALL_GEMM=plain forces the plain C loops here too (tests use it). */
static bool pw_use_simd(void) {
  if (small_gemm_mode < 0) small_gemm_mode = small_gemm_read_mode();
#ifdef PW_SIMD
  return small_gemm_mode != 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

static void pw_range(int op, float* out, const float* inp, const float* dout, size_t a, size_t b, bool simd) {
#ifdef PW_SIMD
  if (simd) {
    pw_avx2(op, out, inp, dout, a, b);
    return;
  }
#endif
  (void)simd;
  pw_plain(op, out, inp, dout, a, b);
}

/* out = f(inp) (forward) or out += dout * f'(inp) (backward) over n values. */
static void pointwise(int op, float* out, const float* inp, const float* dout, size_t n) {
  const bool simd = pw_use_simd();
  const int parts = thread_parts(n, PW_MIN_PER_THREAD);
  /* Elementwise, so any split gives the same values. */
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int p = 0; p < parts; p++) pw_range(op, out, inp, dout, part_start(0, n, p, parts), part_start(0, n, p + 1, parts), simd);
}

/* Rows [i0, i1) of logSumExpRows (lse != NULL) or scaledSoftmaxRows. Each row is computed alone: any split gives the same values. */
static void pw_rows(float* lse_out, float* x, const float* lse, const float* scale, size_t i0, size_t i1, size_t C, bool simd) {
#ifdef PW_SIMD
  if (simd) {
    if (lse_out) pw_lse_avx2(lse_out, x, i0, i1, C);
    else pw_softmax_avx2(x, lse, scale, i0, i1, C);
    return;
  }
#endif
  (void)simd;
  if (lse_out) pw_lse_plain(lse_out, x, i0, i1, C);
  else pw_softmax_plain(x, lse, scale, i0, i1, C);
}

static void row_kernel(float* lse_out, float* x, const float* lse, const float* scale, size_t N, size_t C) {
  const bool simd = pw_use_simd();
  const int parts = thread_parts(N * C, PW_MIN_PER_THREAD);
  if (parts <= 1 || N < 2) {
    pw_rows(lse_out, x, lse, scale, 0, N, C, simd);
    return;
  }
  const size_t rows_per_block = C >= PW_ROW_BLOCK ? 1 : PW_ROW_BLOCK / C;
  const long blocks = (long)((N + rows_per_block - 1) / rows_per_block);
#pragma omp parallel for num_threads(parts) schedule(static)
  for (long k = 0; k < blocks; k++) {
    const size_t i0 = (size_t)k * rows_per_block;
    const size_t i1 = i0 + rows_per_block < N ? i0 + rows_per_block : N;
    pw_rows(lse_out, x, lse, scale, i0, i1, C, simd);
  }
}

/* geluForward(out, inp, n) and the other three: out = f(inp), or dinp += dout * f'(inp) for the backward ones. */
static napi_value pointwise_call(napi_env env, napi_callback_info info, int op) {
  const bool bwd = op == PW_GELU_BWD || op == PW_SILU_BWD;
  const size_t want = bwd ? 4 : 3;
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t n;
  if (argc != want || !get_count(env, argv[want - 1], &n)) return NULL;
  float* b[3];
  const size_t need[3] = {n, n, n};
  const bool nullable[3] = {false, false, false};
  if (!get_buffers(env, argv, b, need, nullable, (int)want - 1, "pointwise")) return NULL;
  /* Argument order as kernels/ref/activations.ts: (out, inp, n) and (dinp, inp, dout, n). */
  pointwise(op, b[0], b[1], bwd ? b[2] : NULL, n);
  return NULL;
}

static napi_value GeluForward(napi_env env, napi_callback_info info) { return pointwise_call(env, info, PW_GELU_FWD); }
static napi_value GeluBackward(napi_env env, napi_callback_info info) { return pointwise_call(env, info, PW_GELU_BWD); }
static napi_value SiluForward(napi_env env, napi_callback_info info) { return pointwise_call(env, info, PW_SILU_FWD); }
static napi_value SiluBackward(napi_env env, napi_callback_info info) { return pointwise_call(env, info, PW_SILU_BWD); }

/* logSumExpRows(lse, x, N, C) */
static napi_value LogSumExpRows(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t N, C;
  if (argc != 4 || !get_dims(env, argv[2], argv[3], &N, &C)) return NULL;
  float* b[2];
  const size_t need[2] = {N, N * C};
  const bool nullable[2] = {false, false};
  if (!get_buffers(env, argv, b, need, nullable, 2, "logSumExpRows")) return NULL;
  row_kernel(b[0], b[1], NULL, NULL, N, C);
  return NULL;
}

/* scaledSoftmaxRows(x, lse, scale, N, C) */
static napi_value ScaledSoftmaxRows(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t N, C;
  if (argc != 5 || !get_dims(env, argv[3], argv[4], &N, &C)) return NULL;
  float* b[3];
  const size_t need[3] = {N * C, N, N};
  const bool nullable[3] = {false, false, false};
  if (!get_buffers(env, argv, b, need, nullable, 3, "scaledSoftmaxRows")) return NULL;
  row_kernel(NULL, b[0], b[1], b[2], N, C);
  return NULL;
}

#endif
