/*
 * Layer norm and RMS norm kernels and their N-API wrappers. Included once by
 * rrhf_native.c (after napi_args.h and the MULTIVERSION macro).
 */
#ifndef RRHF_NORM_H
#define RRHF_NORM_H

#include <math.h>

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
