// 2-D max pooling and its gradient, NHWC, written out here rather than on
// oneDNN: tfjs's gradient takes the input and output (no argmax workspace)
// and must send each window's gradient to its *first* maximum in row-major
// order, as tfjs's cpu backend does (strict >, so NaN never wins). Both
// loops run a whole channel vector at a time, contiguous in NHWC.
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels.h"

namespace trainyard {

PoolGeometry poolGeometry(const double *v, size_t count) {
  if (count != 12) throw ArgumentError("pooling geometry must have 12 numbers, got " + std::to_string(count));
  const char *names[] = {"batch", "input height", "input width", "channels", "output height", "output width",
                         "filter height", "filter width", "stride height", "stride width", "pad top", "pad left"};
  int64_t out[12];
  for (size_t i = 0; i < 12; i++) {
    int64_t min = i >= 10 ? 0 : 1;
    if (!(v[i] >= double(min)) || v[i] != std::floor(v[i]) || v[i] >= double(int64_t(1) << 31)) {
      throw ArgumentError(std::string("pooling ") + names[i] + " must be an integer >= " + std::to_string(min) + ", got " + std::to_string(v[i]));
    }
    out[i] = int64_t(v[i]);
  }
  return {out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8], out[9], out[10], out[11]};
}

namespace {

struct Window {
  int64_t rowStart, rowEnd, colStart, colEnd;
};

Window windowOf(const PoolGeometry &g, int64_t oy, int64_t ox) {
  int64_t top = oy * g.sh - g.pt;
  int64_t left = ox * g.sw - g.pl;
  return {std::max<int64_t>(0, top), std::min(g.ih, top + g.fh), std::max<int64_t>(0, left), std::min(g.iw, left + g.fw)};
}

int threadsFor(int64_t batch) { return int(std::min<int64_t>(omp_get_max_threads(), batch)); }

// The channel loops below are compiled once per instruction set and picked
// at load time: the add-on is built for any x86-64, but runs on AVX-512 here.
#define TRAINYARD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// One image: the maximum of every window, channel vectors at a time.
TRAINYARD_CLONES
void maxPoolImage(const PoolGeometry &g, const float *__restrict x, float *__restrict y) {
  const int64_t c = g.c;
  for (int64_t oy = 0; oy < g.oh; oy++) {
    for (int64_t ox = 0; ox < g.ow; ox++) {
      float *__restrict out = y + (oy * g.ow + ox) * c;
      for (int64_t ch = 0; ch < c; ch++) out[ch] = -std::numeric_limits<float>::infinity();
      Window w = windowOf(g, oy, ox);
      for (int64_t row = w.rowStart; row < w.rowEnd; row++) {
        for (int64_t col = w.colStart; col < w.colEnd; col++) {
          const float *__restrict in = x + (row * g.iw + col) * c;
          for (int64_t ch = 0; ch < c; ch++) out[ch] = in[ch] > out[ch] ? in[ch] : out[ch];
        }
      }
    }
  }
}

// One image's gradient. `best` and `tap` hold, per channel, the window's
// maximum so far and the position (in window order) where it was first seen.
TRAINYARD_CLONES
void windowArgmax(const PoolGeometry &g, const float *__restrict x, const Window &w, float *__restrict best, int32_t *__restrict tap) {
  const int64_t c = g.c;
  for (int64_t ch = 0; ch < c; ch++) {
    best[ch] = -std::numeric_limits<float>::infinity();
    tap[ch] = -1;
  }
  int32_t t = 0;
  for (int64_t row = w.rowStart; row < w.rowEnd; row++) {
    for (int64_t col = w.colStart; col < w.colEnd; col++, t++) {
      const float *__restrict in = x + (row * g.iw + col) * c;
      for (int64_t ch = 0; ch < c; ch++) {
        const bool better = in[ch] > best[ch];
        best[ch] = better ? in[ch] : best[ch];
        tap[ch] = better ? t : tap[ch];
      }
    }
  }
}

// Windows that do not overlap (stride ≥ window) and cover the image: every
// input pixel belongs to exactly one window, so each window writes its
// pixels once (the gradient at its maximum, zero elsewhere), with no zeroing
// pass and no read-modify-write. The seed net's 2x2/2 poolings are such.
TRAINYARD_CLONES
void maxPoolGradTiled(const PoolGeometry &g, const float *__restrict x, const float *__restrict dy, float *__restrict dx,
                      float *__restrict best, int32_t *__restrict tap) {
  const int64_t c = g.c;
  for (int64_t oy = 0; oy < g.oh; oy++) {
    for (int64_t ox = 0; ox < g.ow; ox++) {
      Window w = windowOf(g, oy, ox);
      windowArgmax(g, x, w, best, tap);
      const float *__restrict grad = dy + (oy * g.ow + ox) * c;
      int32_t t = 0;
      for (int64_t row = w.rowStart; row < w.rowEnd; row++) {
        for (int64_t col = w.colStart; col < w.colEnd; col++, t++) {
          float *__restrict out = dx + (row * g.iw + col) * c;
          for (int64_t ch = 0; ch < c; ch++) out[ch] = tap[ch] == t ? grad[ch] : 0.f;
        }
      }
    }
  }
}

TRAINYARD_CLONES
void maxPoolGradImage(const PoolGeometry &g, const float *__restrict x, const float *__restrict dy, float *__restrict dx,
                      float *__restrict best, int32_t *__restrict tap) {
  const int64_t c = g.c;
  std::memset(dx, 0, sizeof(float) * size_t(g.ih * g.iw * c));
  for (int64_t oy = 0; oy < g.oh; oy++) {
    for (int64_t ox = 0; ox < g.ow; ox++) {
      Window w = windowOf(g, oy, ox);
      const int64_t width = w.colEnd - w.colStart;
      if (w.rowEnd <= w.rowStart || width <= 0) continue;
      windowArgmax(g, x, w, best, tap);
      const float *__restrict grad = dy + (oy * g.ow + ox) * c;
      for (int64_t ch = 0; ch < c; ch++) {
        if (tap[ch] < 0) continue;
        const int64_t row = w.rowStart + tap[ch] / width;
        const int64_t col = w.colStart + tap[ch] % width;
        dx[(row * g.iw + col) * c + ch] += grad[ch];
      }
    }
  }
}

// Whether the windows along one axis tile it: adjacent, none overlapping,
// the first starting at or before 0 and the last ending at or after the end.
bool tiles(int64_t in, int64_t out, int64_t filter, int64_t stride, int64_t padBefore) {
  return stride == filter && padBefore <= 0 && (out - 1) * stride - padBefore + filter >= in && -padBefore + filter > 0;
}

}  // namespace

void maxPool(const Heap &heap, const PoolGeometry &g, double xAt, double yAt) {
  const float *x = heap.floats(xAt, size_t(g.n * g.ih * g.iw * g.c), "x");
  float *y = heap.floats(yAt, size_t(g.n * g.oh * g.ow * g.c), "output");
#pragma omp parallel for num_threads(threadsFor(g.n)) schedule(static)
  for (int64_t b = 0; b < g.n; b++) maxPoolImage(g, x + b * g.ih * g.iw * g.c, y + b * g.oh * g.ow * g.c);
}

void maxPoolGrad(const Heap &heap, const PoolGeometry &g, double xAt, double dyAt, double dxAt) {
  const float *x = heap.floats(xAt, size_t(g.n * g.ih * g.iw * g.c), "input");
  const float *dy = heap.floats(dyAt, size_t(g.n * g.oh * g.ow * g.c), "dy");
  float *dx = heap.floats(dxAt, size_t(g.n * g.ih * g.iw * g.c), "dx");
  if (g.fh * g.fw >= (int64_t(1) << 31)) throw ArgumentError("pooling window is too large");
  const int64_t image = g.ih * g.iw * g.c;
  const int64_t outImage = g.oh * g.ow * g.c;
  const bool tiled = tiles(g.ih, g.oh, g.fh, g.sh, g.pt) && tiles(g.iw, g.ow, g.fw, g.sw, g.pl);
  // Each image's windows write only its own dx, so images run in parallel.
#pragma omp parallel num_threads(threadsFor(g.n))
  {
    std::vector<float> best(static_cast<size_t>(g.c));
    std::vector<int32_t> tap(static_cast<size_t>(g.c));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < g.n; b++) {
      if (tiled) {
        maxPoolGradTiled(g, x + b * image, dy + b * outImage, dx + b * image, best.data(), tap.data());
      } else {
        maxPoolGradImage(g, x + b * image, dy + b * outImage, dx + b * image, best.data(), tap.data());
      }
    }
  }
}

}  // namespace trainyard
