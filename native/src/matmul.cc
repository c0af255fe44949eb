// Matrix products on oneDNN's sgemm (row-major, any transposition), which
// beat OpenBLAS and ATen on the seed net's dense layers (src/engine/NATIVE.md).
// A batched product runs one sgemm per batch.
#include <cmath>
#include <string>

#include "kernels.h"

namespace trainyard {

Activation activationFromCode(double code) {
  if (code == 0) return Activation::linear;
  if (code == 1) return Activation::relu;
  if (code == 2) return Activation::relu6;
  if (code == 3) return Activation::elu;
  if (code == 4) return Activation::leakyrelu;
  if (code == 5) return Activation::sigmoid;
  throw ArgumentError("unknown activation code " + std::to_string(code));
}

namespace {

int64_t wholeNumber(double v, const char *name) {
  if (v != std::floor(v) || !(v >= 0) || v >= 9007199254740992.0) throw ArgumentError(std::string("matMul ") + name + " must be a whole number");
  return int64_t(v);
}

// Bias and activation over one row of the product, as tfjs's fused kernels
// apply them (bias first).
void epilogue(float *row, int64_t n, const float *bias, Activation act, float alpha) {
  if (bias) {
    for (int64_t j = 0; j < n; j++) row[j] += bias[j];
  }
  switch (act) {
    case Activation::linear:
      break;
    case Activation::relu:
      for (int64_t j = 0; j < n; j++) row[j] = row[j] > 0.f ? row[j] : 0.f;
      break;
    case Activation::leakyrelu:
      for (int64_t j = 0; j < n; j++) row[j] = row[j] < 0.f ? alpha * row[j] : row[j];
      break;
    case Activation::relu6:
      for (int64_t j = 0; j < n; j++) row[j] = std::fmin(std::fmax(row[j], 0.f), 6.f);
      break;
    case Activation::elu:
      for (int64_t j = 0; j < n; j++) row[j] = row[j] < 0.f ? std::expm1(row[j]) : row[j];
      break;
    case Activation::sigmoid:
      for (int64_t j = 0; j < n; j++) row[j] = 1.f / (1.f + std::exp(-row[j]));
      break;
  }
}

size_t span(int64_t batch, int64_t stride, int64_t size) { return size_t(stride * (batch - 1) + size); }

}  // namespace

MatMulGeometry matMulGeometry(const double *v, size_t count) {
  if (count != 8) throw ArgumentError("matMul geometry must have 8 numbers, got " + std::to_string(count));
  return {wholeNumber(v[0], "batch"), wholeNumber(v[1], "m"),       wholeNumber(v[2], "n"),       wholeNumber(v[3], "k"),
          v[4] != 0,                  v[5] != 0,                    wholeNumber(v[6], "strideA"), wholeNumber(v[7], "strideB")};
}

void matMul(Context &ctx, const Heap &heap, const MatMulGeometry &g, const MatMulOffsets &at, Activation act, float alpha) {
  const int64_t limit = int64_t(1) << 31;
  for (int64_t d : {g.batch, g.m, g.n, g.k}) {
    if (d < 1 || d >= limit) throw ArgumentError("matMul: batch, m, n and k must be integers from 1 to 2^31 - 1");
  }
  if (g.strideA < 0 || g.strideB < 0) throw ArgumentError("matMul: batch strides must not be negative");
  const float *a = heap.floats(at.a, span(g.batch, g.strideA, g.m * g.k), "a");
  const float *b = heap.floats(at.b, span(g.batch, g.strideB, g.k * g.n), "b");
  const float *bias = at.bias >= 0 ? heap.floats(at.bias, size_t(g.n), "bias") : nullptr;
  float *c = heap.floats(at.c, size_t(g.batch * g.m * g.n), "output");
  const int64_t lda = g.transA ? g.m : g.k;
  const int64_t ldb = g.transB ? g.k : g.n;
  ctx.calls++;
  for (int64_t i = 0; i < g.batch; i++) {
    float *ci = c + i * g.m * g.n;
    dnnl_status_t status = dnnl_sgemm(g.transA ? 'T' : 'N', g.transB ? 'T' : 'N', g.m, g.n, g.k, 1.f, a + i * g.strideA, lda,
                                      b + i * g.strideB, ldb, 0.f, ci, g.n);
    if (status != dnnl_success) throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(int(status)));
    if (bias || act != Activation::linear) {
      for (int64_t r = 0; r < g.m; r++) epilogue(ci + r * g.n, g.n, bias, act, alpha);
    }
  }
}

}  // namespace trainyard
