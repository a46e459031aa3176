# Build options. Optional parts default to AUTO: they are built when what they need is found,
# and the summary at the end of configuration says what was found and how to change it.
set(P4S_WITH_TORCH AUTO CACHE STRING "Build the LibTorch parts (builder, bench): AUTO, ON or OFF")
set(P4S_WITH_CUDA AUTO CACHE STRING "Build the CUDA path of bench (needs a CUDA-enabled LibTorch): AUTO, ON or OFF")
set(P4S_WITH_CUPTI AUTO CACHE STRING "Compile cupti/ against the CUDA toolkit's CUPTI: AUTO, ON or OFF")
set_property(CACHE P4S_WITH_TORCH P4S_WITH_CUDA P4S_WITH_CUPTI PROPERTY STRINGS AUTO ON OFF)
# Which LibTorch scripts/build.sh pointed the folder at (P4S_LIBTORCH: wheel or distro), kept so
# that a folder is not silently reconfigured against the other one.
set(P4S_LIBTORCH_CHOICE "" CACHE STRING "LibTorch chosen by scripts/build.sh: wheel, distro, or empty")
option(P4S_BUILD_TESTS "Build the GoogleTest suite" ON)
# "torch": only the tests that need LibTorch, for a second LibTorch's build whose torch-free
# parts a first build has tested (scripts/test.sh --torch-only).
set(P4S_TEST_SCOPE all CACHE STRING "Which tests to build: all, or torch (those that need LibTorch)")
set_property(CACHE P4S_TEST_SCOPE PROPERTY STRINGS all torch)
if(NOT P4S_TEST_SCOPE MATCHES "^(all|torch)$")
  message(FATAL_ERROR "P4S_TEST_SCOPE=${P4S_TEST_SCOPE}: must be all or torch")
endif()
option(P4S_WARNINGS_AS_ERRORS "Treat warnings in the project's own code as errors" ON)
option(P4S_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(P4S_FUZZ "Build the libFuzzer targets in fuzz/ (clang only; implies P4S_SANITIZE)" OFF)

foreach(opt P4S_WITH_TORCH P4S_WITH_CUDA P4S_WITH_CUPTI)
  if(NOT ${opt} MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "${opt}=${${opt}}: must be AUTO, ON or OFF")
  endif()
endforeach()

# libFuzzer ships with clang only; GCC would fail later on -fsanitize=fuzzer with a less clear error.
if(P4S_FUZZ AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "P4S_FUZZ=ON needs clang with libFuzzer, got ${CMAKE_CXX_COMPILER_ID}: "
                      "configure a fresh build folder with -DCMAKE_CXX_COMPILER=clang++ "
                      "(scripts/fuzz.sh does)")
endif()
