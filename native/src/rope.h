/*
 * Rotary position embedding, forward and backward (the loops of
 * kernels/ref/rope.ts), threaded over OpenMP by (b, h, t) rows. Every value
 * is computed in double and rounded once on store, as the reference's
 * JavaScript does: the products of two floats are exact in double and the
 * addon is built with -std=c11, under which GCC does not contract a*b - c*d
 * into an FMA, so results equal the reference bit for bit. Rows are
 * independent, so any split over threads leaves every value unchanged.
 *
 * Included once by rrhf_native.c (after attention.h, for get_i32).
 */
#ifndef RRHF_ROPE_H
#define RRHF_ROPE_H

/* Values per thread below which waking a second one costs more than it saves. */
#define ROPE_MIN_PER_THREAD 32768

typedef struct {
  size_t H, T, D;
  const int32_t* pos; /* [B, T] or NULL: position past + t */
  size_t past;
} rope_dims;

/*
 * Rows [r0, r1) of [B*H*T, D]. Forward: y = rotate(x). Backward: y += rotate(x)
 * by the opposite angle (x is dout, y is dinp). y and x may be one buffer in
 * the forward: each pair (i, i + D/2) is read before it is written.
 */
MULTIVERSION
static void rope_rows(float* y, const float* x, const float* cos_t, const float* sin_t, const rope_dims* d, size_t r0, size_t r1,
                      bool backward) {
  const size_t half = d->D / 2;
  for (size_t r = r0; r < r1; r++) {
    const size_t t = r % d->T, b = r / (d->H * d->T);
    const size_t p = d->pos ? (size_t)d->pos[b * d->T + t] : d->past + t;
    const float* c = cos_t + p * half;
    const float* s = sin_t + p * half;
    const float* x1 = x + r * d->D;
    float* y1 = y + r * d->D;
    if (backward) {
      for (size_t i = 0; i < half; i++) {
        const double g1 = x1[i], g2 = x1[half + i], ci = c[i], si = s[i];
        y1[i] = (float)((double)y1[i] + (g1 * ci + g2 * si));
        y1[half + i] = (float)((double)y1[half + i] + (g2 * ci - g1 * si));
      }
    } else {
      for (size_t i = 0; i < half; i++) {
        const double a = x1[i], bb = x1[half + i], ci = c[i], si = s[i];
        y1[i] = (float)(a * ci - bb * si);
        y1[half + i] = (float)(bb * ci + a * si);
      }
    }
  }
}

static void rope_run(float* y, const float* x, const float* cos_t, const float* sin_t, const rope_dims* d, size_t rows,
                     bool backward) {
  const int parts = thread_parts(rows * d->D, ROPE_MIN_PER_THREAD);
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int k = 0; k < parts; k++)
    rope_rows(y, x, cos_t, sin_t, d, rows * (size_t)k / (size_t)parts, rows * (size_t)(k + 1) / (size_t)parts, backward);
}

/* True when every row's position has a whole row of the cos/sin tables (`table` values each). */
static bool rope_positions_ok(const rope_dims* d, size_t B, size_t table) {
  const size_t half = d->D / 2;
  if (B * d->T == 0) return true;
  if (!d->pos) return (d->past + d->T) * half <= table;
  for (size_t i = 0; i < B * d->T; i++) {
    if (d->pos[i] < 0 || ((size_t)d->pos[i] + 1) * half > table) return false;
  }
  return true;
}

/*
 * ropeForward(out, inp, cos, sin, positions | null, past, B, H, T, D) and
 * ropeBackward(dinp, dout, cos, sin, positions | null, past, B, H, T, D):
 * the reference kernels' arguments with the dims object spread.
 */
static napi_value rope_call(napi_env env, napi_callback_info info, bool backward) {
  const char* op = backward ? "ropeBackward" : "ropeForward";
  size_t argc = 10;
  napi_value argv[10];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double v[5];
  for (int i = 0; i < 5 && argc == 10; i++) CHECK(env, napi_get_value_double(env, argv[5 + i], &v[i]));
  bool whole = argc == 10;
  for (int i = 0; i < 5 && whole; i++) whole = v[i] >= 0 && v[i] == (double)(size_t)v[i] && v[i] < 9007199254740992.0;
  if (!whole || (size_t)v[4] % 2 != 0) {
    napi_throw_range_error(env, NULL, "rrhf-native: rope takes 10 arguments; past, B, H, T, D integers >= 0, D even");
    return NULL;
  }
  /* A product past 2^53 could wrap in size_t and slip past the length checks. */
  if (v[1] * v[2] * v[3] * v[4] >= 9007199254740992.0) {
    napi_throw_range_error(env, NULL, "rrhf-native: rope dims too large");
    return NULL;
  }
  const size_t B = (size_t)v[1], H = (size_t)v[2], T = (size_t)v[3], D = (size_t)v[4];
  rope_dims d = {H, T, D, NULL, (size_t)v[0]};
  napi_valuetype pt;
  CHECK(env, napi_typeof(env, argv[4], &pt));
  size_t npos = 0;
  if (pt != napi_null && !get_i32(env, argv[4], &d.pos, &npos, "rope positions")) return NULL;
  float* b[4];
  const size_t n = B * H * T * D;
  const size_t need[4] = {n, n, 0, 0};
  const bool nullable[4] = {false, false, false, false};
  if (!get_buffers(env, argv, b, need, nullable, 4, op)) return NULL;
  size_t lc, ls;
  float* table;
  if (!get_f32(env, argv[2], &table, &lc, "rope cos") || !get_f32(env, argv[3], &table, &ls, "rope sin")) return NULL;
  if ((d.pos && npos < B * T) || !rope_positions_ok(&d, B, lc < ls ? lc : ls)) {
    napi_throw_range_error(env, NULL, "rrhf-native: rope positions fall outside the cos/sin tables or the positions array");
    return NULL;
  }
  if (n > 0) rope_run(b[0], b[1], b[2], b[3], &d, B * H * T, backward);
  return NULL;
}

static napi_value RopeForward(napi_env env, napi_callback_info info) { return rope_call(env, info, false); }
static napi_value RopeBackward(napi_env env, napi_callback_info info) { return rope_call(env, info, true); }

#endif
