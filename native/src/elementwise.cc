// Memory-bound ops that the seed net's profile showed next after the
// convolutions and products: a bias added to every row, the rows summed (a
// bias gradient), and the square root (Adam). Compiled for
// several instruction sets, chosen at load time, like the pooling loops.
#include <omp.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels.h"

namespace trainyard {

namespace {

#define TRAINYARD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// Chunks of this many floats go to one thread: smaller ones cost more to share than to compute.
constexpr int64_t kChunk = int64_t(1) << 16;

int threadsFor(int64_t work) { return int(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), work / kChunk))); }

TRAINYARD_CLONES
void sqrtRange(const float *__restrict x, float *__restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = std::sqrt(x[i]);
}

TRAINYARD_CLONES
void addRowVectorRows(const float *__restrict x, const float *__restrict v, float *__restrict y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float *__restrict in = x + r * cols;
    float *__restrict out = y + r * cols;
    for (int64_t c = 0; c < cols; c++) out[c] = in[c] + v[c];
  }
}

TRAINYARD_CLONES
void sumRowsInto(const float *__restrict x, double *__restrict acc, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float *__restrict in = x + r * cols;
    for (int64_t c = 0; c < cols; c++) acc[c] += double(in[c]);
  }
}

}  // namespace

void squareRoot(const Heap &heap, double xAt, double yAt, int64_t n) {
  if (n < 1) throw ArgumentError("size must be at least 1");
  const float *x = heap.floats(xAt, size_t(n), "x");
  float *y = heap.floats(yAt, size_t(n), "output");
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for num_threads(threadsFor(n)) schedule(static)
  for (int64_t i = 0; i < chunks; i++) {
    const int64_t start = i * kChunk;
    const int64_t count = std::min(kChunk, n - start);
    sqrtRange(x + start, y + start, count);
  }
}

void addRowVector(const Heap &heap, double xAt, double vAt, double yAt, int64_t rows, int64_t cols) {
  if (rows < 1 || cols < 1) throw ArgumentError("rows and columns must be at least 1");
  const float *x = heap.floats(xAt, size_t(rows * cols), "x");
  const float *v = heap.floats(vAt, size_t(cols), "bias");
  float *y = heap.floats(yAt, size_t(rows * cols), "output");
  const int64_t rowsPerChunk = std::max<int64_t>(1, kChunk / cols);
  const int64_t chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
#pragma omp parallel for num_threads(threadsFor(rows * cols)) schedule(static)
  for (int64_t i = 0; i < chunks; i++) {
    const int64_t start = i * rowsPerChunk;
    addRowVectorRows(x + start * cols, v, y + start * cols, std::min(rowsPerChunk, rows - start), cols);
  }
}

void sumRows(const Heap &heap, double xAt, double yAt, int64_t rows, int64_t cols, bool mean) {
  if (rows < 1 || cols < 1) throw ArgumentError("rows and columns must be at least 1");
  const float *x = heap.floats(xAt, size_t(rows * cols), "x");
  float *y = heap.floats(yAt, size_t(cols), "output");
  // Float64 partial sums, one row of them per thread, as tfjs's cpu backend
  // accumulates in float64: 10^5-term sums stay accurate.
  const int threads = threadsFor(rows * cols);
  std::vector<double> partial(size_t(threads) * size_t(cols), 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int64_t per = (rows + threads - 1) / threads;
    const int64_t start = std::min(rows, per * t);
    const int64_t end = std::min(rows, start + per);
    if (end > start) sumRowsInto(x + start * cols, partial.data() + size_t(t) * size_t(cols), end - start, cols);
  }
  for (int64_t c = 0; c < cols; c++) {
    double total = 0;
    for (int t = 0; t < threads; t++) total += partial[size_t(t) * size_t(cols) + size_t(c)];
    y[c] = float(mean ? total / double(rows) : total);
  }
}

}  // namespace trainyard
