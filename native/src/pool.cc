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

}  // namespace

void maxPool(const Heap &heap, const PoolGeometry &g, double xAt, double yAt) {
  const float *x = heap.floats(xAt, size_t(g.n * g.ih * g.iw * g.c), "x");
  float *y = heap.floats(yAt, size_t(g.n * g.oh * g.ow * g.c), "output");
  const int64_t c = g.c;
#pragma omp parallel for num_threads(threadsFor(g.n)) schedule(static)
  for (int64_t b = 0; b < g.n; b++) {
    for (int64_t oy = 0; oy < g.oh; oy++) {
      for (int64_t ox = 0; ox < g.ow; ox++) {
        float *out = y + ((b * g.oh + oy) * g.ow + ox) * c;
        for (int64_t ch = 0; ch < c; ch++) out[ch] = -std::numeric_limits<float>::infinity();
        Window w = windowOf(g, oy, ox);
        for (int64_t row = w.rowStart; row < w.rowEnd; row++) {
          for (int64_t col = w.colStart; col < w.colEnd; col++) {
            const float *in = x + ((b * g.ih + row) * g.iw + col) * c;
            for (int64_t ch = 0; ch < c; ch++) out[ch] = in[ch] > out[ch] ? in[ch] : out[ch];
          }
        }
      }
    }
  }
}

void maxPoolGrad(const Heap &heap, const PoolGeometry &g, double xAt, double dyAt, double dxAt) {
  const float *x = heap.floats(xAt, size_t(g.n * g.ih * g.iw * g.c), "input");
  const float *dy = heap.floats(dyAt, size_t(g.n * g.oh * g.ow * g.c), "dy");
  float *dx = heap.floats(dxAt, size_t(g.n * g.ih * g.iw * g.c), "dx");
  const int64_t c = g.c;
  const int64_t image = g.ih * g.iw * c;
#pragma omp parallel num_threads(threadsFor(g.n))
  {
    std::vector<float> best(static_cast<size_t>(c));
    std::vector<int64_t> where(static_cast<size_t>(c));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < g.n; b++) {
      // Each image's windows write only its own dx, so images run in parallel.
      std::memset(dx + b * image, 0, sizeof(float) * size_t(image));
      for (int64_t oy = 0; oy < g.oh; oy++) {
        for (int64_t ox = 0; ox < g.ow; ox++) {
          Window w = windowOf(g, oy, ox);
          for (int64_t ch = 0; ch < c; ch++) {
            best[size_t(ch)] = -std::numeric_limits<float>::infinity();
            where[size_t(ch)] = -1;
          }
          for (int64_t row = w.rowStart; row < w.rowEnd; row++) {
            for (int64_t col = w.colStart; col < w.colEnd; col++) {
              const int64_t base = ((b * g.ih + row) * g.iw + col) * c;
              const float *in = x + base;
              for (int64_t ch = 0; ch < c; ch++) {
                bool better = in[ch] > best[size_t(ch)];
                best[size_t(ch)] = better ? in[ch] : best[size_t(ch)];
                where[size_t(ch)] = better ? base + ch : where[size_t(ch)];
              }
            }
          }
          const float *grad = dy + ((b * g.oh + oy) * g.ow + ox) * c;
          for (int64_t ch = 0; ch < c; ch++) {
            if (where[size_t(ch)] >= 0) dx[where[size_t(ch)]] += grad[ch];
          }
        }
      }
    }
  }
}

}  // namespace trainyard
