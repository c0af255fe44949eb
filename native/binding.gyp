{
  "targets": [
    {
      "target_name": "trainyard_native",
      "sources": [
        "src/addon.cc",
        "src/context.cc",
        "src/conv.cc",
        "src/matmul.cc",
        "src/pool.cc",
        "src/elementwise.cc"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fexceptions", "-frtti", "-fopenmp", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
