/*
 * Layer norm and RMS norm kernels and their N-API wrappers. Included once by
 * rrhf_native.c (after napi_args.h, thread_parts, part_start and the MULTIVERSION
 * macro; small_gemm.h for RRHF_SMALL_GEMM=plain).
 */
#ifndef RRHF_NORM_H
#define RRHF_NORM_H

#include <math.h>
#include <stdint.h>

/*
 * Layer norm and RMS norm over rows of C values: the loops of
 * kernels/ref/layernorm.ts and ref/rmsnorm.ts in the same double arithmetic
 * and order, so results equal the reference's JavaScript bit for bit (the
 * addon is built with -std=c11, under which GCC does not contract a*b + c into
 * an FMA; the AVX2 code below has no FMA). Backward ACCUMULATES.
 *
 * Why rows go NORM_ROWS at a time: the reference sums each row's values one
 * after another, and one double add chain runs at an add's latency. Eight
 * rows side by side, four to an AVX2 vector (float columns transposed 4x4,
 * then widened), keep two chains in flight while each lane still adds its
 * own row in the reference's order. The elementwise passes run along a row.
 * Rows are independent, so the forward and the input gradient split over
 * threads by rows; the weight and bias gradients sum over rows, so on
 * several threads they split by columns, each column summed over all rows in
 * order (on one thread they ride along with the rows, in order): no value
 * depends on the thread count.
 */
#define NORM_ROWS 8
/* Values per thread below which waking a second one costs more than it saves. */
#define NORM_MIN_PER_THREAD 32768

/* Row pointers of the group starting at row n of [*, C] (rows at or past `end` repeat row end - 1: computed, never stored). */
static void norm_group_rows(const float** r, const float* base, size_t n, size_t end, size_t C) {
  for (int j = 0; j < NORM_ROWS; j++) r[j] = base + (n + (size_t)j < end ? n + (size_t)j : end - 1) * C;
}

/* Per-row values of rows n.. (a float array [N]) in double. */
static void norm_group_vals(double* v, const float* a, size_t n, size_t end) {
  for (int j = 0; j < NORM_ROWS; j++) v[j] = a[n + (size_t)j < end ? n + (size_t)j : end - 1];
}

/*
 * The row sums, for a group of NORM_ROWS rows, each summed in the
 * reference's order: layer norm's mean and variance sums (m = sum(x) / C,
 * then sum((x - m)^2)); RMS norm's sum(x * x); the layer norm backward's
 * sum(w * g) and sum((w * g) * ((x - m) * s)); the RMS norm backward's
 * sum((g * w) * x). Portable versions, one row at a time.
 */
static void ln_sums_plain(const float** r, size_t C, double* m, double* v) {
  for (int j = 0; j < NORM_ROWS; j++) {
    double a = 0;
    for (size_t c = 0; c < C; c++) a += r[j][c];
    m[j] = a / (double)C;
    a = 0;
    for (size_t c = 0; c < C; c++) {
      const double d = r[j][c] - m[j];
      a += d * d;
    }
    v[j] = a;
  }
}

static void rms_sums_plain(const float** r, size_t C, double* ss) {
  for (int j = 0; j < NORM_ROWS; j++) {
    double a = 0;
    for (size_t c = 0; c < C; c++) a += (double)r[j][c] * r[j][c];
    ss[j] = a;
  }
}

static void ln_grad_sums_plain(const float** r, const float** g, const float* w, const double* m, const double* s, size_t C,
                               double* a, double* b) {
  for (int j = 0; j < NORM_ROWS; j++) {
    double sa = 0, sb = 0;
    for (size_t c = 0; c < C; c++) {
      const double norm = (r[j][c] - m[j]) * s[j], dnorm = (double)w[c] * g[j][c];
      sa += dnorm;
      sb += dnorm * norm;
    }
    a[j] = sa;
    b[j] = sb;
  }
}

static void rms_grad_sums_plain(const float** r, const float** g, const float* w, size_t C, double* dot) {
  for (int j = 0; j < NORM_ROWS; j++) {
    double a = 0;
    for (size_t c = 0; c < C; c++) a += (double)g[j][c] * w[c] * r[j][c];
    dot[j] = a;
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NORM_AVX2 1
#define NORM_AVX2_TARGET __attribute__((target("avx2")))

/* Columns c..c+3 of rows r[0..3]: t[k] = (r0[c+k], r1[c+k], r2[c+k], r3[c+k]) in double. */
NORM_AVX2_TARGET static inline __attribute__((always_inline)) void norm_cols4(const float** r, size_t c, __m256d* t) {
  __m128 a = _mm_loadu_ps(r[0] + c), b = _mm_loadu_ps(r[1] + c), e = _mm_loadu_ps(r[2] + c), f = _mm_loadu_ps(r[3] + c);
  _MM_TRANSPOSE4_PS(a, b, e, f);
  t[0] = _mm256_cvtps_pd(a);
  t[1] = _mm256_cvtps_pd(b);
  t[2] = _mm256_cvtps_pd(e);
  t[3] = _mm256_cvtps_pd(f);
}

/* Column c of rows r[0..3] in double. */
NORM_AVX2_TARGET static inline __attribute__((always_inline)) __m256d norm_col1(const float** r, size_t c) {
  return _mm256_set_pd(r[3][c], r[2][c], r[1][c], r[0][c]);
}

NORM_AVX2_TARGET static void ln_sums_avx2(const float** r, size_t C, double* m, double* v) {
  const __m256d Cv = _mm256_set1_pd((double)C);
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), t[4], u[4];
  size_t c = 0;
  for (; c + 4 <= C; c += 4) {
    norm_cols4(r, c, t);
    norm_cols4(r + 4, c, u);
    a0 = _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(_mm256_add_pd(a0, t[0]), t[1]), t[2]), t[3]);
    a1 = _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(_mm256_add_pd(a1, u[0]), u[1]), u[2]), u[3]);
  }
  for (; c < C; c++) {
    a0 = _mm256_add_pd(a0, norm_col1(r, c));
    a1 = _mm256_add_pd(a1, norm_col1(r + 4, c));
  }
  const __m256d m0 = _mm256_div_pd(a0, Cv), m1 = _mm256_div_pd(a1, Cv);
  a0 = a1 = _mm256_setzero_pd();
  for (c = 0; c + 4 <= C; c += 4) {
    norm_cols4(r, c, t);
    norm_cols4(r + 4, c, u);
    for (int k = 0; k < 4; k++) {
      const __m256d d0 = _mm256_sub_pd(t[k], m0), d1 = _mm256_sub_pd(u[k], m1);
      a0 = _mm256_add_pd(a0, _mm256_mul_pd(d0, d0));
      a1 = _mm256_add_pd(a1, _mm256_mul_pd(d1, d1));
    }
  }
  for (; c < C; c++) {
    const __m256d d0 = _mm256_sub_pd(norm_col1(r, c), m0), d1 = _mm256_sub_pd(norm_col1(r + 4, c), m1);
    a0 = _mm256_add_pd(a0, _mm256_mul_pd(d0, d0));
    a1 = _mm256_add_pd(a1, _mm256_mul_pd(d1, d1));
  }
  _mm256_storeu_pd(m, m0);
  _mm256_storeu_pd(m + 4, m1);
  _mm256_storeu_pd(v, a0);
  _mm256_storeu_pd(v + 4, a1);
}

NORM_AVX2_TARGET static void rms_sums_avx2(const float** r, size_t C, double* ss) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), t[4], u[4];
  size_t c = 0;
  for (; c + 4 <= C; c += 4) {
    norm_cols4(r, c, t);
    norm_cols4(r + 4, c, u);
    for (int k = 0; k < 4; k++) {
      a0 = _mm256_add_pd(a0, _mm256_mul_pd(t[k], t[k]));
      a1 = _mm256_add_pd(a1, _mm256_mul_pd(u[k], u[k]));
    }
  }
  for (; c < C; c++) {
    const __m256d x0 = norm_col1(r, c), x1 = norm_col1(r + 4, c);
    a0 = _mm256_add_pd(a0, _mm256_mul_pd(x0, x0));
    a1 = _mm256_add_pd(a1, _mm256_mul_pd(x1, x1));
  }
  _mm256_storeu_pd(ss, a0);
  _mm256_storeu_pd(ss + 4, a1);
}

NORM_AVX2_TARGET static void ln_grad_sums_avx2(const float** r, const float** g, const float* w, const double* m,
                                               const double* s, size_t C, double* a, double* b) {
  const __m256d m0 = _mm256_loadu_pd(m), m1 = _mm256_loadu_pd(m + 4), s0 = _mm256_loadu_pd(s), s1 = _mm256_loadu_pd(s + 4);
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, b0 = a0, b1 = a0, tx[4], ux[4], tg[4], ug[4];
  size_t c = 0;
  for (; c + 4 <= C; c += 4) {
    norm_cols4(r, c, tx);
    norm_cols4(r + 4, c, ux);
    norm_cols4(g, c, tg);
    norm_cols4(g + 4, c, ug);
    for (int k = 0; k < 4; k++) {
      const __m256d wk = _mm256_set1_pd(w[c + (size_t)k]);
      const __m256d d0 = _mm256_mul_pd(wk, tg[k]), d1 = _mm256_mul_pd(wk, ug[k]);
      a0 = _mm256_add_pd(a0, d0);
      a1 = _mm256_add_pd(a1, d1);
      b0 = _mm256_add_pd(b0, _mm256_mul_pd(d0, _mm256_mul_pd(_mm256_sub_pd(tx[k], m0), s0)));
      b1 = _mm256_add_pd(b1, _mm256_mul_pd(d1, _mm256_mul_pd(_mm256_sub_pd(ux[k], m1), s1)));
    }
  }
  for (; c < C; c++) {
    const __m256d wk = _mm256_set1_pd(w[c]);
    const __m256d d0 = _mm256_mul_pd(wk, norm_col1(g, c)), d1 = _mm256_mul_pd(wk, norm_col1(g + 4, c));
    a0 = _mm256_add_pd(a0, d0);
    a1 = _mm256_add_pd(a1, d1);
    b0 = _mm256_add_pd(b0, _mm256_mul_pd(d0, _mm256_mul_pd(_mm256_sub_pd(norm_col1(r, c), m0), s0)));
    b1 = _mm256_add_pd(b1, _mm256_mul_pd(d1, _mm256_mul_pd(_mm256_sub_pd(norm_col1(r + 4, c), m1), s1)));
  }
  _mm256_storeu_pd(a, a0);
  _mm256_storeu_pd(a + 4, a1);
  _mm256_storeu_pd(b, b0);
  _mm256_storeu_pd(b + 4, b1);
}

NORM_AVX2_TARGET static void rms_grad_sums_avx2(const float** r, const float** g, const float* w, size_t C, double* dot) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, tx[4], ux[4], tg[4], ug[4];
  size_t c = 0;
  for (; c + 4 <= C; c += 4) {
    norm_cols4(r, c, tx);
    norm_cols4(r + 4, c, ux);
    norm_cols4(g, c, tg);
    norm_cols4(g + 4, c, ug);
    for (int k = 0; k < 4; k++) {
      const __m256d wk = _mm256_set1_pd(w[c + (size_t)k]);
      a0 = _mm256_add_pd(a0, _mm256_mul_pd(_mm256_mul_pd(tg[k], wk), tx[k]));
      a1 = _mm256_add_pd(a1, _mm256_mul_pd(_mm256_mul_pd(ug[k], wk), ux[k]));
    }
  }
  for (; c < C; c++) {
    const __m256d wk = _mm256_set1_pd(w[c]);
    a0 = _mm256_add_pd(a0, _mm256_mul_pd(_mm256_mul_pd(norm_col1(g, c), wk), norm_col1(r, c)));
    a1 = _mm256_add_pd(a1, _mm256_mul_pd(_mm256_mul_pd(norm_col1(g + 4, c), wk), norm_col1(r + 4, c)));
  }
  _mm256_storeu_pd(dot, a0);
  _mm256_storeu_pd(dot + 4, a1);
}
#endif

/* AVX2 sums when the CPU has AVX2; RRHF_SMALL_GEMM=plain forces the portable ones (tests use it). Read before any parallel region. */
static bool norm_use_avx2(void) {
  if (small_gemm_mode < 0) small_gemm_mode = small_gemm_read_mode();
#ifdef NORM_AVX2
  return small_gemm_mode != 1 && __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

static void ln_sums(bool avx2, const float** r, size_t C, double* m, double* v) {
#ifdef NORM_AVX2
  if (avx2) return ln_sums_avx2(r, C, m, v);
#endif
  (void)avx2;
  ln_sums_plain(r, C, m, v);
}

static void rms_sums(bool avx2, const float** r, size_t C, double* ss) {
#ifdef NORM_AVX2
  if (avx2) return rms_sums_avx2(r, C, ss);
#endif
  (void)avx2;
  rms_sums_plain(r, C, ss);
}

static void ln_grad_sums(bool avx2, const float** r, const float** g, const float* w, const double* m, const double* s, size_t C, double* a,
                         double* b) {
#ifdef NORM_AVX2
  if (avx2) return ln_grad_sums_avx2(r, g, w, m, s, C, a, b);
#endif
  (void)avx2;
  ln_grad_sums_plain(r, g, w, m, s, C, a, b);
}

static void rms_grad_sums(bool avx2, const float** r, const float** g, const float* w, size_t C, double* dot) {
#ifdef NORM_AVX2
  if (avx2) return rms_grad_sums_avx2(r, g, w, C, dot);
#endif
  (void)avx2;
  rms_grad_sums_plain(r, g, w, C, dot);
}

/* The elementwise passes along one row (vectorised by the compiler, per target clone). */
MULTIVERSION
static void ln_out_row(float* y, const float* x, const float* w, const float* b, double m, double s, size_t C) {
  if (b) {
    for (size_t c = 0; c < C; c++) y[c] = (float)((x[c] - m) * s * w[c] + b[c]);
  } else {
    for (size_t c = 0; c < C; c++) y[c] = (float)((x[c] - m) * s * w[c] + 0.0);
  }
}

MULTIVERSION
static void ln_dinp_row(float* d, const float* g, const float* x, const float* w, double m, double s, double dm, double dnm,
                        size_t C) {
  for (size_t c = 0; c < C; c++) {
    const double norm = (x[c] - m) * s;
    d[c] = (float)(d[c] + s * ((double)w[c] * g[c] - dm - norm * dnm));
  }
}

/* One row's terms of the weight and bias gradients, columns [c0, c1): db += g, dw += norm * g (either may be NULL). */
MULTIVERSION
static void ln_param_row(float* restrict dw, float* restrict db, const float* restrict g, const float* restrict x, double m,
                         double s, size_t c0, size_t c1) {
  if (db)
    for (size_t c = c0; c < c1; c++) db[c] = (float)(db[c] + (double)g[c]);
  if (dw)
    for (size_t c = c0; c < c1; c++) dw[c] = (float)(dw[c] + (x[c] - m) * s * g[c]);
}

MULTIVERSION
static void rms_out_row(float* y, const float* x, const float* w, double s, size_t C) {
  for (size_t c = 0; c < C; c++) y[c] = (float)(x[c] * s * w[c]);
}

MULTIVERSION
static void rms_dinp_row(float* d, const float* g, const float* x, const float* w, double s, double k, size_t C) {
  for (size_t c = 0; c < C; c++) d[c] = (float)(d[c] + s * ((double)g[c] * w[c] - x[c] * k));
}

/* One row's term of the weight gradient, columns [c0, c1): dw += (g * x) * s. */
MULTIVERSION
static void rms_param_row(float* restrict dw, const float* restrict g, const float* restrict x, double s, size_t c0, size_t c1) {
  for (size_t c = c0; c < c1; c++) dw[c] = (float)(dw[c] + (double)g[c] * x[c] * s);
}

/* Layer norm forward, rows [n0, n1). */
static void layernorm_rows(bool avx2, float* out, float* mean, float* rstd, const float* inp, const float* w, const float* b, size_t n0,
                           size_t n1, size_t C, double eps) {
  for (size_t n = n0; n < n1; n += NORM_ROWS) {
    const float* r[NORM_ROWS];
    double m[NORM_ROWS], v[NORM_ROWS];
    norm_group_rows(r, inp, n, n1, C);
    ln_sums(avx2, r, C, m, v);
    for (int j = 0; j < NORM_ROWS && n + (size_t)j < n1; j++) {
      const double s = 1.0 / sqrt(v[j] / (double)C + eps);
      ln_out_row(out + (n + (size_t)j) * C, r[j], w, b, m[j], s, C);
      mean[n + (size_t)j] = (float)m[j];
      rstd[n + (size_t)j] = (float)s;
    }
  }
}

/*
 * Layer norm backward, rows [n0, n1): dinp += s * ((w * g - dm) - norm * dnm)
 * from each row's two means (dinp NULL: not wanted), and, where dw or db is
 * given, their terms of these rows in order (one thread over all rows only).
 */
static void layernorm_backward_rows(bool avx2, float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                                    const float* mean, const float* rstd, size_t n0, size_t n1, size_t C) {
  if (!dinp) {
    for (size_t n = n0; n < n1; n++) ln_param_row(dw, db, dout + n * C, inp + n * C, mean[n], rstd[n], 0, C);
    return;
  }
  for (size_t n = n0; n < n1; n += NORM_ROWS) {
    const float *r[NORM_ROWS], *g[NORM_ROWS];
    double m[NORM_ROWS], s[NORM_ROWS], a[NORM_ROWS], bb[NORM_ROWS];
    norm_group_rows(r, inp, n, n1, C);
    norm_group_rows(g, dout, n, n1, C);
    norm_group_vals(m, mean, n, n1);
    norm_group_vals(s, rstd, n, n1);
    ln_grad_sums(avx2, r, g, w, m, s, C, a, bb);
    for (int j = 0; j < NORM_ROWS && n + (size_t)j < n1; j++) {
      ln_dinp_row(dinp + (n + (size_t)j) * C, g[j], r[j], w, m[j], s[j], a[j] / (double)C, bb[j] / (double)C, C);
      if (dw || db) ln_param_row(dw, db, g[j], r[j], m[j], s[j], 0, C);
    }
  }
}

/* Layer norm weight and bias gradients, columns [c0, c1), over rows 0..N-1 in order (either may be NULL: not wanted). */
static void layernorm_param_cols(float* dw, float* db, const float* dout, const float* inp, const float* mean, const float* rstd,
                                 size_t N, size_t C, size_t c0, size_t c1) {
  for (size_t n = 0; n < N; n++) ln_param_row(dw, db, dout + n * C, inp + n * C, mean[n], rstd[n], c0, c1);
}

/* RMS norm forward, rows [n0, n1). */
static void rmsnorm_rows(bool avx2, float* out, float* rstd, const float* inp, const float* w, size_t n0, size_t n1, size_t C, double eps) {
  for (size_t n = n0; n < n1; n += NORM_ROWS) {
    const float* r[NORM_ROWS];
    double ss[NORM_ROWS];
    norm_group_rows(r, inp, n, n1, C);
    rms_sums(avx2, r, C, ss);
    for (int j = 0; j < NORM_ROWS && n + (size_t)j < n1; j++) {
      const double s = 1.0 / sqrt(ss[j] / (double)C + eps);
      rms_out_row(out + (n + (size_t)j) * C, r[j], w, s, C);
      rstd[n + (size_t)j] = (float)s;
    }
  }
}

/*
 * RMS norm backward, rows [n0, n1): dinp += s * (g * w - x * k) with
 * k = s * s * sum((g * w) * x) / C (dinp NULL: not wanted), and, where dw is
 * given, its terms of these rows in order (one thread over all rows only).
 */
static void rmsnorm_backward_rows(bool avx2, float* dinp, float* dw, const float* dout, const float* inp, const float* w, const float* rstd,
                                  size_t n0, size_t n1, size_t C) {
  if (!dinp) {
    for (size_t n = n0; n < n1; n++) rms_param_row(dw, dout + n * C, inp + n * C, rstd[n], 0, C);
    return;
  }
  for (size_t n = n0; n < n1; n += NORM_ROWS) {
    const float *r[NORM_ROWS], *g[NORM_ROWS];
    double s[NORM_ROWS], dot[NORM_ROWS];
    norm_group_rows(r, inp, n, n1, C);
    norm_group_rows(g, dout, n, n1, C);
    norm_group_vals(s, rstd, n, n1);
    rms_grad_sums(avx2, r, g, w, C, dot);
    for (int j = 0; j < NORM_ROWS && n + (size_t)j < n1; j++) {
      rms_dinp_row(dinp + (n + (size_t)j) * C, g[j], r[j], w, s[j], (s[j] * s[j] * dot[j]) / (double)C, C);
      if (dw) rms_param_row(dw, g[j], r[j], s[j], 0, C);
    }
  }
}

/* RMS norm weight gradient, columns [c0, c1): dw += (g * x) * s over rows 0..N-1 in order. */
static void rmsnorm_param_cols(float* dw, const float* dout, const float* inp, const float* rstd, size_t N, size_t C, size_t c0,
                               size_t c1) {
  for (size_t n = 0; n < N; n++) rms_param_row(dw, dout + n * C, inp + n * C, rstd[n], c0, c1);
}

/* Part p of rows [0, N) split in `parts` (rows are independent: any split gives the same values). */
static size_t norm_row_start(size_t N, int p, int parts) { return N * (size_t)p / (size_t)parts; }

static void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* w, const float* b, size_t N,
                              size_t C, double eps) {
  const bool avx2 = norm_use_avx2();
  const int parts = thread_parts(N * C, NORM_MIN_PER_THREAD);
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int p = 0; p < parts; p++)
    layernorm_rows(avx2, out, mean, rstd, inp, w, b, norm_row_start(N, p, parts), norm_row_start(N, p + 1, parts), C, eps);
}

/*
 * On one thread the rows go in order, so the weight and bias gradients ride
 * along with the input gradient (each row's values read once); on several,
 * the input gradient splits by rows and the parameter gradients by columns.
 */
static void layernorm_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                               const float* mean, const float* rstd, size_t N, size_t C) {
  const bool avx2 = norm_use_avx2();
  const int parts = thread_parts(N * C, NORM_MIN_PER_THREAD);
  if (parts == 1) {
    if (dinp || dw || db) layernorm_backward_rows(avx2, dinp, dw, db, dout, inp, w, mean, rstd, 0, N, C);
    return;
  }
#pragma omp parallel num_threads(parts)
  {
    if (dinp) {
#pragma omp for schedule(static) nowait
      for (int p = 0; p < parts; p++)
        layernorm_backward_rows(avx2, dinp, NULL, NULL, dout, inp, w, mean, rstd, norm_row_start(N, p, parts),
                                norm_row_start(N, p + 1, parts), C);
    }
    if (dw || db) {
#pragma omp for schedule(static)
      for (int p = 0; p < parts; p++)
        layernorm_param_cols(dw, db, dout, inp, mean, rstd, N, C, part_start(0, C, p, parts), part_start(0, C, p + 1, parts));
    }
  }
}

static void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* w, size_t N, size_t C, double eps) {
  const bool avx2 = norm_use_avx2();
  const int parts = thread_parts(N * C, NORM_MIN_PER_THREAD);
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int p = 0; p < parts; p++)
    rmsnorm_rows(avx2, out, rstd, inp, w, norm_row_start(N, p, parts), norm_row_start(N, p + 1, parts), C, eps);
}

static void rmsnorm_backward(float* dinp, float* dw, const float* dout, const float* inp, const float* w, const float* rstd,
                             size_t N, size_t C) {
  const bool avx2 = norm_use_avx2();
  const int parts = thread_parts(N * C, NORM_MIN_PER_THREAD);
  if (parts == 1) {
    if (dinp || dw) rmsnorm_backward_rows(avx2, dinp, dw, dout, inp, w, rstd, 0, N, C);
    return;
  }
#pragma omp parallel num_threads(parts)
  {
    if (dinp) {
#pragma omp for schedule(static) nowait
      for (int p = 0; p < parts; p++)
        rmsnorm_backward_rows(avx2, dinp, NULL, dout, inp, w, rstd, norm_row_start(N, p, parts), norm_row_start(N, p + 1, parts), C);
    }
    if (dw) {
#pragma omp for schedule(static)
      for (int p = 0; p < parts; p++)
        rmsnorm_param_cols(dw, dout, inp, rstd, N, C, part_start(0, C, p, parts), part_start(0, C, p + 1, parts));
    }
  }
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

#endif
