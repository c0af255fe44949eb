// Per-JavaScript-thread state of the add-on: the oneDNN engine and stream,
// the cache of built primitives, and one growable workspace for the
// temporaries (blocked-layout copies, oneDNN scratchpads) of every call.
//
// Node may load the add-on in several threads (the API's compute threads);
// each gets its own Context through napi_set_instance_data, so nothing here
// is shared between threads.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace trainyard {

// A failure the caller caused (bad offsets, inconsistent shapes): reported
// to JavaScript as such, before anything is written.
class ArgumentError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// oneDNN has no implementation for a shape: the caller runs its own kernel
// instead. Remembered per shape, so asking again costs nothing.
class UnsupportedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The wasm heap as the add-on sees it: its bytes and their count.
struct Heap {
  uint8_t *base = nullptr;
  size_t bytes = 0;

  // A float32 tensor of `count` elements at byte `offset`, checked to lie
  // inside the heap and to be aligned.
  float *floats(double offset, size_t count, const char *what) const;
};

// Grows to the largest size asked for and is reused by every call; the
// kernels of one thread run one at a time, so one buffer serves them all.
class Workspace {
 public:
  // At least `bytes` bytes, 64-byte aligned. Invalidates earlier pointers.
  uint8_t *reserve(size_t bytes);
  size_t capacity() const { return capacity_; }
  void release();

 private:
  struct Free {
    void operator()(uint8_t *p) const;
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t capacity_ = 0;
};

// Carves 64-byte-aligned pieces out of a workspace for one call.
class Layout {
 public:
  size_t add(size_t bytes) {
    size_t at = total_;
    total_ += (bytes + 63) & ~size_t(63);
    return at;
  }
  size_t total() const { return total_; }

 private:
  size_t total_ = 0;
};

// One operand of a primitive: the caller's layout, the primitive's, and the
// reorder between them when they differ.
struct Operand {
  int arg = 0;
  bool output = false;
  dnnl::memory::desc user;
  dnnl::memory::desc inner;
  bool reordered = false;
  dnnl::primitive reorder;
  dnnl::memory::desc reorderScratch;
};

// A built primitive and how to feed it from the heap.
struct PrimitiveEntry {
  // oneDNN could not build one for this key (see UnsupportedError).
  bool unsupported = false;
  dnnl::primitive primitive;
  std::vector<Operand> operands;
  dnnl::memory::desc scratch;
  std::string impl;
};

// Least-recently-used cache of built primitives, keyed by every number that
// defines one. Bounded, so a process that trains many different models does
// not keep the JIT code of all of them.
class PrimitiveCache {
 public:
  explicit PrimitiveCache(size_t capacity) : capacity_(capacity) {}
  std::shared_ptr<PrimitiveEntry> find(const std::string &key);
  void insert(const std::string &key, std::shared_ptr<PrimitiveEntry> entry);
  size_t size() const { return map_.size(); }
  void clear();

 private:
  using Item = std::pair<std::string, std::shared_ptr<PrimitiveEntry>>;
  size_t capacity_;
  std::list<Item> order_;
  std::unordered_map<std::string, std::list<Item>::iterator> map_;
};

struct Context {
  Context();
  dnnl::engine engine;
  dnnl::stream stream;
  PrimitiveCache cache{64};
  Workspace workspace;
  int threads = 1;
  uint64_t calls = 0;
  // A kernel name planted by a test (injectFault): that kernel throws
  // inside C++ on its next call, as a failing library would, or reports
  // its shape unsupported when `faultUnsupported`.
  std::string fault;
  bool faultUnsupported = false;

  void setThreads(int n);
  // Runs a cached primitive on heap pointers, one per operand in order,
  // with reorders through the workspace where the layouts differ.
  void execute(const PrimitiveEntry &entry, const std::vector<float *> &pointers);
};

// Builds the entry's operands and scratchpad from a primitive descriptor.
// `args` lists (argument, caller's layout) pairs; outputs are flagged.
struct OperandSpec {
  int arg;
  dnnl::memory::desc user;
  bool output;
};
std::shared_ptr<PrimitiveEntry> makeEntry(Context &ctx, const dnnl::primitive_desc_base &pd, dnnl::primitive primitive,
                                          const std::vector<OperandSpec> &specs);

// The cached entry for `key`, built by `build` on a miss. A shape oneDNN
// cannot implement is cached as such and throws UnsupportedError.
std::shared_ptr<PrimitiveEntry> cachedEntry(Context &ctx, const std::string &key, const std::function<std::shared_ptr<PrimitiveEntry>()> &build);

// A key from a kind and a list of integers.
std::string cacheKey(const char *kind, std::initializer_list<int64_t> values);

}  // namespace trainyard
