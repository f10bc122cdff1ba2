{
  # The CPU addon. prebuildify and the install fallback (node-gyp-build) build this target;
  # CMakeLists.txt builds the same sources plus the CUDA backend on request.
  "targets": [
    {
      "target_name": "posapl",
      "sources": [
        "<!@(node -p \"require('./scripts/native-sources.js').cpu.join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/include"
      ],
      "defines": [ "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS" ],
      "cflags!": [ "-fno-exceptions", "-O2" ],
      "cflags_cc!": [ "-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-O2" ],
      "cflags": [ "-O3", "-fPIC" ],
      "cflags_cc": [ "-std=c++17", "-fexceptions", "-O3", "-fno-math-errno", "-Wall", "-Wno-unused-function" ],
      "ldflags": [ "-pthread" ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": [ "-O3", "-fno-math-errno" ]
      }
    }
  ]
}
