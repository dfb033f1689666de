/*
 * SGD and Adafactor kernels: the loops of kernels/ref/optim.ts (sgdUpdateRef,
 * adafactorStatsRef, adafactorSumSquaresRef, adafactorApplyRef) in the same
 * order and precision (double arithmetic, float32 stores), so results equal
 * the reference's bit for bit, split over the backend's threads where a
 * split cannot change a value: elementwise updates by ranges, row sums by
 * rows, column sums by columns, the sum of squares by fixed blocks. Included
 * once by rrhf_native.c (after thread_parts, part_start, MULTIVERSION and
 * SUM_BLOCK, which must equal ADAFACTOR_SUM_BLOCK).
 */
#ifndef RRHF_OPTIM_H
#define RRHF_OPTIM_H

#include <stdbool.h>
#include <stddef.h>

/* Below this many values per thread a second thread does not pay for waking it (as for AdamW). */
#define OPTIM_MIN_PER_THREAD ((size_t)1 << 16)

MULTIVERSION
static void sgd_range(float* restrict p, const float* restrict g, float* restrict buf, size_t start, size_t end, double wd,
                      double mu, double lr, bool first) {
  if (mu == 0) {
    for (size_t i = start; i < end; i++) {
      const double d = (double)g[i] + wd * p[i];
      p[i] = (float)(p[i] - lr * d);
    }
    return;
  }
  for (size_t i = start; i < end; i++) {
    const double d = (double)g[i] + wd * p[i];
    const float b = (float)(first ? d : mu * buf[i] + d);
    buf[i] = b;
    p[i] = (float)(p[i] - lr * (double)b);
  }
}

static void sgd_update(float* p, const float* g, float* buf, size_t start, size_t end, double wd, double mu, double lr,
                       bool first) {
  const int parts = thread_parts(end - start, OPTIM_MIN_PER_THREAD);
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int k = 0; k < parts; k++)
    sgd_range(p, g, buf, part_start(start, end, k, parts), part_start(start, end, k + 1, parts), wd, mu, lr, first);
}

/* One factored tensor: `batch` matrices of R x C values (flat; global row gr belongs to matrix gr / R). */
typedef struct {
  size_t batch, R, C;
} factored_shape;

/* Row sums of q = g^2 + eps over global rows [r0, r1), each in column order; four rows at once for independent adds. */
MULTIVERSION
static void ada_row_sums(const float* restrict g, size_t C, double eps, double* restrict out, size_t r0, size_t r1) {
  size_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    const float *a = g + r * C, *b = a + C, *c2 = b + C, *d = c2 + C;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t c = 0; c < C; c++) {
      s0 += (double)a[c] * a[c] + eps;
      s1 += (double)b[c] * b[c] + eps;
      s2 += (double)c2[c] * c2[c] + eps;
      s3 += (double)d[c] * d[c] + eps;
    }
    out[r] = s0;
    out[r + 1] = s1;
    out[r + 2] = s2;
    out[r + 3] = s3;
  }
  for (; r < r1; r++) {
    const float* a = g + r * C;
    double s = 0;
    for (size_t c = 0; c < C; c++) s += (double)a[c] * a[c] + eps;
    out[r] = s;
  }
}

/* Column sums of q over columns [c0, c1) of every matrix, each in row order (vectorised across the columns). */
MULTIVERSION
static void ada_col_sums(const float* restrict g, factored_shape s, double eps, double* restrict out, size_t c0, size_t c1) {
  for (size_t b = 0; b < s.batch; b++) {
    double* restrict o = out + b * s.C;
    for (size_t c = c0; c < c1; c++) o[c] = 0;
    for (size_t r = 0; r < s.R; r++) {
      const float* restrict row = g + (b * s.R + r) * s.C;
      for (size_t c = c0; c < c1; c++) o[c] += (double)row[c] * row[c] + eps;
    }
  }
}

static void ada_stats(const float* g, factored_shape s, double eps, double* row_sums, double* col_sums) {
  const size_t rows = s.batch * s.R;
  const int parts = thread_parts(rows * s.C, OPTIM_MIN_PER_THREAD);
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int k = 0; k < parts; k++) ada_row_sums(g, s.C, eps, row_sums, part_start(0, rows, k, parts), part_start(0, rows, k + 1, parts));
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int k = 0; k < parts; k++) ada_col_sums(g, s, eps, col_sums, part_start(0, s.C, k, parts), part_start(0, s.C, k + 1, parts));
}

/*
 * Sum of u^2 (u = rf[gr] * cf[matrix col] * g) over flat elements [k0, k1) of one block, element k into lane k % 8,
 * the lanes then added in order: row pieces run their lane-aligned middle as whole groups of 8.
 */
MULTIVERSION
static double ada_sq_block(const float* restrict g, factored_shape s, const double* restrict rf, const double* restrict cf,
                           size_t k0, size_t k1) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t k = k0; k < k1;) {
    const size_t gr = k / s.C, c0 = k - gr * s.C;
    const size_t len = ((gr + 1) * s.C < k1 ? (gr + 1) * s.C : k1) - k;
    const double f = rf[gr];
    const float* restrict gp = g + k;
    const double* restrict cp = cf + (gr / s.R) * s.C + c0;
    size_t j = 0;
    for (; j < len && ((k + j) & 7); j++) {
      const double u = f * cp[j] * gp[j];
      acc[(k + j) & 7] += u * u;
    }
    for (; j + 8 <= len; j += 8) {
      for (int l = 0; l < 8; l++) {
        const double u = f * cp[j + l] * gp[j + l];
        acc[l] += u * u;
      }
    }
    for (; j < len; j++) {
      const double u = f * cp[j] * gp[j];
      acc[(k + j) & 7] += u * u;
    }
    k += len;
  }
  double sum = acc[0];
  for (int l = 1; l < 8; l++) sum += acc[l];
  return sum;
}

/* What one Adafactor sum-of-squares block reads. */
typedef struct {
  const float* g;
  factored_shape s;
  const double* rf;
  const double* cf;
} ada_sq_ctx;

static double ada_sq_ctx_block(const void* ctx, size_t k0, size_t k1) {
  const ada_sq_ctx* c = (const ada_sq_ctx*)ctx;
  return ada_sq_block(c->g, c->s, c->rf, c->cf, k0, k1);
}

static double ada_sum_squares(const float* g, factored_shape s, const double* rf, const double* cf) {
  const ada_sq_ctx ctx = {g, s, rf, cf};
  return blocked_sum(s.batch * s.R * s.C, ada_sq_ctx_block, &ctx);
}

/* p = f32(p * decay) (unless decay is 1), then p = f32(p - u * scale), over flat elements [k0, k1). */
MULTIVERSION
static void ada_apply_range(float* restrict p, const float* restrict g, factored_shape s, const double* restrict rf,
                            const double* restrict cf, size_t k0, size_t k1, double decay, double scale) {
  const bool decays = decay != 1.0;
  for (size_t k = k0; k < k1;) {
    const size_t gr = k / s.C, c0 = k - gr * s.C;
    const size_t len = ((gr + 1) * s.C < k1 ? (gr + 1) * s.C : k1) - k;
    const double f = rf[gr];
    const float* restrict gp = g + k;
    float* restrict pp = p + k;
    const double* restrict cp = cf + (gr / s.R) * s.C + c0;
    for (size_t j = 0; j < len; j++) {
      const double u = f * cp[j] * gp[j];
      float pj = pp[j];
      if (decays) pj = (float)(pj * decay);
      pp[j] = (float)(pj - u * scale);
    }
    k += len;
  }
}

static void ada_apply(float* p, const float* g, factored_shape s, const double* rf, const double* cf, double decay, double scale) {
  const size_t n = s.batch * s.R * s.C;
  const int parts = thread_parts(n, OPTIM_MIN_PER_THREAD);
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int k = 0; k < parts; k++)
    ada_apply_range(p, g, s, rf, cf, part_start(0, n, k, parts), part_start(0, n, k + 1, parts), decay, scale);
}

static bool get_f64(napi_env env, napi_value v, double** data, size_t* len, const char* name) {
  bool is_ta = false;
  napi_typedarray_type type;
  void* ptr = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok || type != napi_float64_array) {
    char msg[96];
    snprintf(msg, sizeof msg, "rrhf-native: %s must be a Float64Array", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  static double empty[1];
  *data = ptr != NULL ? (double*)ptr : empty;
  return true;
}

/*
 * Reads (offset, batch, R, C) at argv[0..4) of a factored tensor inside arenas of `arena_len` values, and its two
 * Float64Array vectors at argv[4] and argv[5] (batch * R and batch * C values); false with a JS exception otherwise.
 */
static bool get_factored(napi_env env, napi_value* argv, size_t arena_len, const char* op, size_t* offset, factored_shape* s,
                         double** rows, double** cols) {
  size_t v[4], lr, lc;
  for (int i = 0; i < 4; i++)
    if (!get_count(env, argv[i], &v[i])) return false;
  *offset = v[0];
  *s = (factored_shape){v[1], v[2], v[3]};
  if (!get_f64(env, argv[4], rows, &lr, "row vector") || !get_f64(env, argv[5], cols, &lc, "column vector")) return false;
  /* In double: huge arguments cannot wrap around. */
  const double n = (double)s->batch * (double)s->R * (double)s->C;
  if (s->R < 1 || s->C < 1 || (double)*offset + n > (double)arena_len || (double)s->batch * (double)s->R > (double)lr ||
      (double)s->batch * (double)s->C > (double)lc) {
    char msg[128];
    snprintf(msg, sizeof msg, "rrhf-native: %s: the tensor or its row/column vectors do not fit the buffers", op);
    napi_throw_range_error(env, NULL, msg);
    return false;
  }
  return true;
}

/* sgdUpdate(params, grads, buf, start, end, lr, weightDecay, momentum, first); buf may be null when momentum is 0. */
static napi_value SgdUpdate(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t start, end;
  double h[3];
  bool first;
  if (argc != 9 || !get_count(env, argv[3], &start) || !get_count(env, argv[4], &end)) {
    if (argc != 9) napi_throw_type_error(env, NULL, "rrhf-native: sgdUpdate takes 9 arguments");
    return NULL;
  }
  for (int i = 0; i < 3; i++) CHECK(env, napi_get_value_double(env, argv[5 + i], &h[i]));
  CHECK(env, napi_get_value_bool(env, argv[8], &first));
  float* b[3];
  const size_t need[3] = {end, end, h[2] != 0 ? end : 0};
  const bool nullable[3] = {false, false, h[2] == 0};
  if (!get_buffers(env, argv, b, need, nullable, 3, "sgdUpdate")) return NULL;
  if (start > end) {
    napi_throw_range_error(env, NULL, "rrhf-native: sgdUpdate range is backwards");
    return NULL;
  }
  sgd_update(b[0], b[1], b[2], start, end, h[1], h[2], h[0], first);
  return NULL;
}

/* adafactorStats(grads, offset, batch, R, C, rowSums, colSums, eps) */
static napi_value AdafactorStats(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float* g;
  size_t lg, offset;
  factored_shape s;
  double *rows, *cols, eps;
  if (argc != 8) {
    napi_throw_type_error(env, NULL, "rrhf-native: adafactorStats takes 8 arguments");
    return NULL;
  }
  if (!get_f32(env, argv[0], &g, &lg, "grads") || !get_factored(env, argv + 1, lg, "adafactorStats", &offset, &s, &rows, &cols))
    return NULL;
  CHECK(env, napi_get_value_double(env, argv[7], &eps));
  ada_stats(g + offset, s, eps, rows, cols);
  return NULL;
}

/* adafactorSumSquares(grads, offset, batch, R, C, rFactor, cFactor) */
static napi_value AdafactorSumSquares(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float* g;
  size_t lg, offset;
  factored_shape s;
  double *rf, *cf;
  if (argc != 7) {
    napi_throw_type_error(env, NULL, "rrhf-native: adafactorSumSquares takes 7 arguments");
    return NULL;
  }
  if (!get_f32(env, argv[0], &g, &lg, "grads") || !get_factored(env, argv + 1, lg, "adafactorSumSquares", &offset, &s, &rf, &cf))
    return NULL;
  napi_value out;
  CHECK(env, napi_create_double(env, ada_sum_squares(g + offset, s, rf, cf), &out));
  return out;
}

/* adafactorApply(params, grads, offset, batch, R, C, rFactor, cFactor, decay, scale) */
static napi_value AdafactorApply(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *p, *g;
  size_t lp, lg, offset;
  factored_shape s;
  double *rf, *cf, decay, scale;
  if (argc != 10) {
    napi_throw_type_error(env, NULL, "rrhf-native: adafactorApply takes 10 arguments");
    return NULL;
  }
  if (!get_f32(env, argv[0], &p, &lp, "params") || !get_f32(env, argv[1], &g, &lg, "grads") ||
      !get_factored(env, argv + 2, lp < lg ? lp : lg, "adafactorApply", &offset, &s, &rf, &cf))
    return NULL;
  CHECK(env, napi_get_value_double(env, argv[8], &decay));
  CHECK(env, napi_get_value_double(env, argv[9], &scale));
  ada_apply(p + offset, g + offset, s, rf, cf, decay, scale);
  return NULL;
}

#define OPTIM_PROPS                                                                            \
  {"sgdUpdate", NULL, SgdUpdate, NULL, NULL, NULL, napi_enumerable, NULL},                     \
      {"adafactorStats", NULL, AdafactorStats, NULL, NULL, NULL, napi_enumerable, NULL},       \
      {"adafactorSumSquares", NULL, AdafactorSumSquares, NULL, NULL, NULL, napi_enumerable, NULL}, \
      {"adafactorApply", NULL, AdafactorApply, NULL, NULL, NULL, napi_enumerable, NULL},

#endif
