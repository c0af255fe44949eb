// N-API entry points, one table of them (kFunctions) behind one callback
// (dispatch). A call reads its arguments (the wasm heap's ArrayBuffer and
// Float64Arrays of byte offsets and geometry, in place) through one set of
// typed readers, runs a kernel synchronously on the calling thread, and
// turns every C++ exception into a JavaScript Error with a code, so a
// failing kernel fails the job that ran it, never the process.
#include <node_api.h>
#include <omp.h>

#include <cmath>
#include <exception>
#include <new>
#include <stdexcept>
#include <cstring>
#include <string>
#include <string_view>

#include "context.h"
#include "kernels.h"

namespace trainyard {
namespace {

constexpr size_t kMaxArgs = 6;
// Beyond this, a count or offset is no longer an exact double.
constexpr double kMaxWhole = 9007199254740992.0;

struct Call;

// An exported function: its name (which error messages and injectFault use),
// how many tensors it takes when it is a kernel, its parameters (a trailing
// '?' marks an optional one) and its body. A kernel's first two parameters
// are the heap and the tensors' offsets in it, which dispatch() reads before
// the body runs. A body that returns nullptr answers undefined.
struct Function {
  const char *name;
  size_t tensors;
  const char *params[kMaxArgs];
  napi_value (*body)(Call &);
};

// One call of a Function. Its readers take the arguments in the order of the
// signature, and all fail the same way: an ArgumentError that names the
// argument ("argument 1 (offsets) must be a Float64Array"), to which
// dispatch() adds the function's name.
struct Call {
  napi_env env;
  Context &ctx;
  const Function &fn;
  const napi_value *argv;  // kMaxArgs of them, undefined past argc
  size_t argc;
  size_t next = 0;
  // A kernel's heap and the byte offset of each of its tensors.
  Heap memory;
  const double *at = nullptr;

  Call(napi_env e, Context &c, const Function &f, const napi_value *v, size_t n) : env(e), ctx(c), fn(f), argv(v), argc(n) {}

  void checkCount() const {
    size_t required = 0;
    for (const char *param : fn.params) {
      if (param && param[std::strlen(param) - 1] != '?') required++;
    }
    if (argc < required) throw ArgumentError("expected " + signature());
  }

  std::string signature() const {
    std::string s = std::string(fn.name) + "(";
    for (size_t i = 0; i < kMaxArgs && fn.params[i]; i++) s += (i ? ", " : "") + std::string(fn.params[i]);
    return s + ")";
  }

  // The next argument; `fail` names the one it last returned.
  napi_value take() { return argv[next++]; }
  bool present() const { return next < argc; }

  [[noreturn]] void fail(const std::string &what) const {
    const size_t i = next - 1;
    std::string name = fn.params[i];
    if (name.back() == '?') name.pop_back();
    throw ArgumentError("argument " + std::to_string(i) + " (" + name + ") " + what);
  }

  // The wasm heap's ArrayBuffer: read in place, never copied.
  Heap heap() {
    napi_value v = take();
    bool is = false;
    napi_is_arraybuffer(env, v, &is);
    if (!is) fail("must be the wasm heap's ArrayBuffer");
    Heap h;
    void *data = nullptr;
    if (napi_get_arraybuffer_info(env, v, &data, &h.bytes) != napi_ok) fail("cannot be read");
    if (!data && h.bytes > 0) fail("is detached");
    h.base = static_cast<uint8_t *>(data);
    return h;
  }

  // A Float64Array, `count` numbers long when count is not 0.
  const double *float64s(size_t count, size_t *actual = nullptr) {
    napi_value v = take();
    bool is = false;
    napi_is_typedarray(env, v, &is);
    napi_typedarray_type type;
    size_t length = 0;
    void *data = nullptr;
    if (is) napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
    if (!is || type != napi_float64_array) fail("must be a Float64Array");
    if (count != 0 && length != count) fail("must hold " + std::to_string(count) + " numbers, got " + std::to_string(length));
    if (actual) *actual = length;
    return static_cast<const double *>(data);
  }

  // Byte offsets into the heap, one per tensor (-1: an absent optional one).
  const double *offsets(size_t count) { return float64s(count); }

  // A Float64Array parsed by a kernel's own geometry reader (kernels.h).
  template <typename Geometry>
  Geometry geometry(Geometry (*parse)(const double *, size_t)) {
    size_t count = 0;
    const double *values = float64s(0, &count);
    return parse(values, count);
  }

  double number() {
    napi_value v = take();
    double d = 0;
    if (napi_get_value_double(env, v, &d) != napi_ok || !std::isfinite(d)) fail("must be a finite number");
    return d;
  }

  // A whole number from 1 up (sizes, row and column counts).
  int64_t count() {
    double v = number();
    if (v != std::floor(v) || !(v >= 1) || v >= kMaxWhole) fail("must be a whole number >= 1");
    return int64_t(v);
  }

  // A whole number from `min` to `max`.
  int integer(int min, int max) {
    double v = number();
    if (v != std::floor(v) || v < min || v > max) fail("must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return int(v);
  }

  bool flag() { return number() != 0; }

  Activation activation() { return activationFromCode(integer(0, int(Activation::sigmoid))); }

  std::string string(size_t capacity) {
    napi_value v = take();
    std::string s(capacity, '\0');
    size_t length = 0;
    if (napi_get_value_string_utf8(env, v, s.data(), capacity, &length) != napi_ok) fail("must be a string");
    s.resize(length);
    return s;
  }

  // An optional boolean: absent or not a boolean reads as false.
  bool optionalBool() {
    bool b = false;
    if (present()) napi_get_value_bool(env, take(), &b);
    return b;
  }
};

void throwJs(napi_env env, const char *code, const std::string &message) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, code, message.c_str());
}

napi_value undefinedValue(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

// The one callback every export goes through: reads the call, runs the
// Function it was created for, and converts any C++ exception into a
// pending JavaScript error with a code.
napi_value dispatch(napi_env env, napi_callback_info info) {
  napi_value argv[kMaxArgs];
  size_t argc = kMaxArgs;
  void *data = nullptr;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok || !data) {
    throwJs(env, "ERR_NATIVE_KERNEL", "cannot read the call's arguments");
    return nullptr;
  }
  const Function &fn = *static_cast<const Function *>(data);
  const std::string_view kernel = fn.name;
  try {
    void *context = nullptr;
    if (napi_get_instance_data(env, &context) != napi_ok || !context) throw std::runtime_error("the add-on's context is missing");
    Call call(env, *static_cast<Context *>(context), fn, argv, argc);
    if (!call.ctx.fault.empty() && call.ctx.fault == kernel) {
      call.ctx.fault.clear();
      if (call.ctx.faultUnsupported) throw UnsupportedError("unsupported, as a test asked");
      throw std::runtime_error("fault injected by a test");
    }
    call.checkCount();
    if (fn.tensors > 0) {
      call.memory = call.heap();
      call.at = call.offsets(fn.tensors);
    }
    napi_value result = fn.body(call);
    return result ? result : undefinedValue(env);
  } catch (const ArgumentError &err) {
    throwJs(env, "ERR_NATIVE_ARGUMENT", std::string(kernel) + ": " + err.what());
  } catch (const UnsupportedError &err) {
    throwJs(env, "ERR_NATIVE_UNSUPPORTED", std::string(kernel) + ": " + err.what());
  } catch (const dnnl::error &err) {
    throwJs(env, "ERR_NATIVE_ONEDNN", std::string(kernel) + ": oneDNN failed (status " + std::to_string(int(err.status)) + "): " + err.what());
  } catch (const std::bad_alloc &) {
    throwJs(env, "ERR_NATIVE_OUT_OF_MEMORY", std::string(kernel) + ": out of memory");
  } catch (const std::exception &err) {
    throwJs(env, "ERR_NATIVE_KERNEL", std::string(kernel) + ": " + err.what());
  } catch (...) {
    throwJs(env, "ERR_NATIVE_KERNEL", std::string(kernel) + ": unknown C++ exception");
  }
  return nullptr;
}

void setNumber(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, name, v);
}

void setString(napi_env env, napi_value obj, const char *name, const std::string &value) {
  napi_value v;
  napi_create_string_utf8(env, value.c_str(), value.size(), &v);
  napi_set_named_property(env, obj, name, v);
}

// The implementation oneDNN picks for a typical convolution on this CPU,
// e.g. "jit:avx512_core": says which instruction set the kernels use.
std::string probeConvImpl(Context &ctx) {
  using dnnl::memory;
  memory::desc src({8, 32, 14, 14}, memory::data_type::f32, memory::format_tag::any);
  memory::desc wei({64, 32, 5, 5}, memory::data_type::f32, memory::format_tag::any);
  memory::desc dst({8, 64, 14, 14}, memory::data_type::f32, memory::format_tag::any);
  dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wei, dst, {1, 1}, {2, 2},
                                     {2, 2});
  return dnnl::convolution_forward::primitive_desc(fd, ctx.engine).impl_info_str();
}

napi_value Info(Call &call) {
  napi_value out;
  napi_create_object(call.env, &out);
  const dnnl_version_t *v = dnnl_version();
  setString(call.env, out, "library", "oneDNN");
  setString(call.env, out, "version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  setString(call.env, out, "runtime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB" : "other");
  setString(call.env, out, "convolution", probeConvImpl(call.ctx));
  setNumber(call.env, out, "threads", call.ctx.threads);
  setNumber(call.env, out, "cachedPrimitives", double(call.ctx.cache.size()));
  setNumber(call.env, out, "workspaceBytes", double(call.ctx.workspace.capacity()));
  setNumber(call.env, out, "calls", double(call.ctx.calls));
  return out;
}

napi_value SetThreads(Call &call) {
  call.ctx.setThreads(call.integer(1, 1024));
  return nullptr;
}

napi_value ReleaseCaches(Call &call) {
  call.ctx.cache.clear();
  call.ctx.workspace.release();
  return nullptr;
}

napi_value InjectFault(Call &call) {
  call.ctx.fault = call.string(64);
  call.ctx.faultUnsupported = call.optionalBool();
  return nullptr;
}

napi_value Conv2d(Call &call) {
  ConvGeometry g = call.geometry(convGeometry);
  Activation act = call.activation();
  float alpha = float(call.number());
  convForward(call.ctx, call.memory, g, {call.at[0], call.at[1], call.at[2], call.at[3]}, act, alpha);
  return nullptr;
}

napi_value Conv2dBackpropInput(Call &call) {
  convBackwardData(call.ctx, call.memory, call.geometry(convGeometry), call.at[0], call.at[1], call.at[2]);
  return nullptr;
}

napi_value Conv2dBackpropFilter(Call &call) {
  convBackwardWeights(call.ctx, call.memory, call.geometry(convGeometry), call.at[0], call.at[1], call.at[2]);
  return nullptr;
}

napi_value MatMul(Call &call) {
  MatMulGeometry g = call.geometry(matMulGeometry);
  Activation act = call.activation();
  float alpha = float(call.number());
  matMul(call.ctx, call.memory, g, {call.at[0], call.at[1], call.at[2], call.at[3]}, act, alpha);
  return nullptr;
}

napi_value MaxPool(Call &call) {
  PoolGeometry g = call.geometry(poolGeometry);
  call.ctx.calls++;
  maxPool(call.memory, g, call.at[0], call.at[1]);
  return nullptr;
}

napi_value MaxPoolGrad(Call &call) {
  PoolGeometry g = call.geometry(poolGeometry);
  call.ctx.calls++;
  maxPoolGrad(call.memory, g, call.at[0], call.at[1], call.at[2]);
  return nullptr;
}

napi_value Sqrt(Call &call) {
  int64_t size = call.count();
  call.ctx.calls++;
  squareRoot(call.memory, call.at[0], call.at[1], size);
  return nullptr;
}

napi_value AddRowVector(Call &call) {
  int64_t rows = call.count();
  int64_t cols = call.count();
  call.ctx.calls++;
  addRowVector(call.memory, call.at[0], call.at[1], call.at[2], rows, cols);
  return nullptr;
}

napi_value SumRows(Call &call) {
  int64_t rows = call.count();
  int64_t cols = call.count();
  bool mean = call.flag();
  call.ctx.calls++;
  sumRows(call.memory, call.at[0], call.at[1], rows, cols, mean);
  return nullptr;
}

// Every export, with its parameters: tensors are byte offsets into the heap
// (native/src/kernels.h has each kernel's offsets and geometry layout).
// Static, since each export's callback data points at its entry.
const Function kFunctions[] = {
    {"info", 0, {}, Info},
    {"setThreads", 0, {"threads"}, SetThreads},
    {"releaseCaches", 0, {}, ReleaseCaches},
    {"injectFault", 0, {"kernel", "unsupported?"}, InjectFault},
    // offsets [x, filter, bias (-1: none), y], geometry[17]
    {"conv2d", 4, {"heap", "offsets", "geometry", "activation", "alpha"}, Conv2d},
    // offsets [dy, filter, dx], geometry[17]
    {"conv2dBackpropInput", 3, {"heap", "offsets", "geometry"}, Conv2dBackpropInput},
    // offsets [x, dy, dw], geometry[17]
    {"conv2dBackpropFilter", 3, {"heap", "offsets", "geometry"}, Conv2dBackpropFilter},
    // offsets [a, b, bias (-1: none), c], geometry [batch, m, n, k, transA, transB, strideA, strideB]
    {"matMul", 4, {"heap", "offsets", "geometry", "activation", "alpha"}, MatMul},
    // offsets [x, y], geometry[12]
    {"maxPool", 2, {"heap", "offsets", "geometry"}, MaxPool},
    // offsets [x, dy, dx], geometry[12]
    {"maxPoolGrad", 3, {"heap", "offsets", "geometry"}, MaxPoolGrad},
    // offsets [x, y]
    {"sqrt", 2, {"heap", "offsets", "size"}, Sqrt},
    // offsets [x, v, y]
    {"addRowVector", 3, {"heap", "offsets", "rows", "cols"}, AddRowVector},
    // offsets [x, y]; mean: 0 sums, else divides by rows
    {"sumRows", 2, {"heap", "offsets", "rows", "cols", "mean"}, SumRows},
};

void finalizeContext(napi_env, void *data, void *) { delete static_cast<Context *>(data); }

}  // namespace
}  // namespace trainyard

NAPI_MODULE_INIT() {
  using namespace trainyard;
  try {
    auto *ctx = new Context();
    if (napi_set_instance_data(env, ctx, finalizeContext, nullptr) != napi_ok) {
      delete ctx;
      napi_throw_error(env, "ERR_NATIVE_INIT", "cannot attach the add-on's context");
      return nullptr;
    }
  } catch (const std::exception &err) {
    napi_throw_error(env, "ERR_NATIVE_INIT", (std::string("the native engine cannot start: ") + err.what()).c_str());
    return nullptr;
  }
  for (const Function &fn : kFunctions) {
    napi_value value;
    napi_create_function(env, fn.name, NAPI_AUTO_LENGTH, dispatch, const_cast<Function *>(&fn), &value);
    napi_set_named_property(env, exports, fn.name, value);
  }
  return exports;
}
