// The kernels the add-on exports. Every tensor is float32 on the wasm heap,
// in tfjs's layouts: activations NHWC, filters [kh, kw, in, out] (HWIO),
// matrices row-major. Arguments arrive as byte offsets into the heap and
// are checked against its size before anything runs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "context.h"

namespace trainyard {

// tfjs's fused activations (FusedConv2D, _FusedMatMul), by code.
enum class Activation : int { linear = 0, relu = 1, relu6 = 2, elu = 3, leakyrelu = 4, sigmoid = 5 };
Activation activationFromCode(double code);

struct ConvGeometry {
  int64_t n, ih, iw, ci, oh, ow, co, kh, kw, sh, sw, dh, dw;
  // Zeros added above, left, below, right. Below and right are what makes
  // the last window end where tfjs's output size says (may exceed the pads
  // tfjs reports when its rounding lets the last window overhang).
  int64_t pt, pl, pb, pr;
};
ConvGeometry convGeometry(const double *values, size_t count);

struct ConvOffsets {
  double x, w, bias, y;  // bias < 0: none
};
void convForward(Context &ctx, const Heap &heap, const ConvGeometry &g, const ConvOffsets &at, Activation act, float alpha);
void convBackwardData(Context &ctx, const Heap &heap, const ConvGeometry &g, double dyAt, double wAt, double dxAt);
void convBackwardWeights(Context &ctx, const Heap &heap, const ConvGeometry &g, double xAt, double dyAt, double dwAt);

struct MatMulGeometry {
  int64_t batch, m, n, k;
  bool transA, transB;
  // Elements between consecutive batches of a and b: 0 broadcasts one matrix.
  int64_t strideA, strideB;
};
// [batch, m, n, k, transA, transB, strideA, strideB]; transA/B: nonzero transposes.
MatMulGeometry matMulGeometry(const double *values, size_t count);
struct MatMulOffsets {
  double a, b, bias, c;  // bias < 0: none; else n values added to every row
};
void matMul(Context &ctx, const Heap &heap, const MatMulGeometry &g, const MatMulOffsets &at, Activation act, float alpha);

struct PoolGeometry {
  int64_t n, ih, iw, c, oh, ow, fh, fw, sh, sw, pt, pl;
};
PoolGeometry poolGeometry(const double *values, size_t count);
void maxPool(const Heap &heap, const PoolGeometry &g, double xAt, double yAt);
// dx[first maximum of each window, row-major] += dy: tfjs's cpu semantics.
void maxPoolGrad(const Heap &heap, const PoolGeometry &g, double xAt, double dyAt, double dxAt);

void squareRoot(const Heap &heap, double xAt, double yAt, int64_t n);
// y[r, c] = x[r, c] + v[c]: a bias added along the last axis.
void addRowVector(const Heap &heap, double xAt, double vAt, double yAt, int64_t rows, int64_t cols);
// y[c] = sum (or mean) over r of x[r, c]: leading axes reduced.
void sumRows(const Heap &heap, double xAt, double yAt, int64_t rows, int64_t cols, bool mean);

}  // namespace trainyard
