# Finds the project's dependencies and records what was found in P4S_HAVE_* variables.
# Required everywhere: nlohmann-json, Armadillo. Optional: LibTorch (builder, bench),
# Google Benchmark (bench), CUDA-enabled LibTorch (GPU path), CUPTI (kernel capture),
# GoogleTest (tests).

find_package(nlohmann_json 3.9 REQUIRED)
find_package(Threads REQUIRED)

# Armadillo: Debian ships no usable CMake package config, so use CMake's FindArmadillo module
# and wrap what it finds in an imported target.
find_package(Armadillo REQUIRED)
if(NOT TARGET p4s::armadillo)
  add_library(p4s::armadillo INTERFACE IMPORTED)
  set_target_properties(p4s::armadillo PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${ARMADILLO_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${ARMADILLO_LIBRARIES}")
endif()

# Google Benchmark: the bench suite (with LibTorch) and the torch-free prediction benchmark.
find_package(benchmark QUIET)

# LibTorch.
set(P4S_HAVE_TORCH OFF)
set(P4S_TORCH_NOTE "P4S_WITH_TORCH=OFF")
if(NOT P4S_WITH_TORCH STREQUAL "OFF")
  find_package(Torch QUIET)
  if(NOT Torch_FOUND AND P4S_WITH_TORCH STREQUAL "ON")
    message(FATAL_ERROR "P4S_WITH_TORCH=ON but LibTorch was not found: install libtorch-dev "
                        "(scripts/install-deps.sh), or set CMAKE_PREFIX_PATH to a LibTorch")
  endif()
  if(Torch_FOUND)
    # With two LibTorches on the machine (a wheel's beside the distribution's), TorchConfig's
    # find_library calls can take a library of the other one, which then fails at run time.
    get_filename_component(_torch_prefix "${TORCH_INSTALL_PREFIX}" REALPATH)
    foreach(_lib TORCH_LIBRARY c10_LIBRARY C10_CUDA_LIBRARY torch_cpu_LIBRARY torch_cuda_LIBRARY)
      if(${_lib})
        get_filename_component(_path "${${_lib}}" REALPATH)
        string(FIND "${_path}" "${_torch_prefix}/" _at)
        if(NOT _at EQUAL 0)
          message(FATAL_ERROR "LibTorch at ${TORCH_INSTALL_PREFIX}, but ${_lib} is ${${_lib}}, another "
                              "LibTorch's: add ${TORCH_INSTALL_PREFIX} to CMAKE_PREFIX_PATH "
                              "(scripts/build.sh does) in a fresh build folder")
        endif()
      endif()
    endforeach()
    if(benchmark_FOUND)
      set(P4S_HAVE_TORCH ON)
      set(P4S_TORCH_NOTE "LibTorch ${Torch_VERSION} at ${TORCH_INSTALL_PREFIX}")
      # TORCH_LIBRARIES mixes imported targets with absolute paths (libc10.so, CUDA's
      # libraries): linked through one target of ours, so that the installed package's export
      # names p4s::torch, which its config recreates from the user's own find_package(Torch).
      if(NOT TARGET p4s::torch)
        add_library(p4s::torch INTERFACE IMPORTED)
        set_target_properties(p4s::torch PROPERTIES INTERFACE_LINK_LIBRARIES "${TORCH_LIBRARIES}")
      endif()
    elseif(P4S_WITH_TORCH STREQUAL "ON")
      message(FATAL_ERROR "P4S_WITH_TORCH=ON but Google Benchmark was not found (libbenchmark-dev)")
    else()
      set(P4S_TORCH_NOTE "LibTorch found but Google Benchmark not (install libbenchmark-dev)")
    endif()
  else()
    set(P4S_TORCH_NOTE "not found (install libtorch-dev, or set CMAKE_PREFIX_PATH to a LibTorch)")
  endif()
endif()

# CUDA path: a LibTorch built with CUDA (its config sets TORCH_CUDA_LIBRARIES and exports
# torch_cuda; from 2.x it also finds the CUDA toolkit itself), and the toolkit's runtime for the
# bench's own CUDA calls.
set(_cuda_roots "${CUDAToolkit_ROOT}" "$ENV{CUDA_HOME}" "$ENV{CUDA_PATH}" /usr/local/cuda)
set(P4S_HAVE_CUDA OFF)
set(P4S_CUDA_COMPILE_CHECK OFF)
set(P4S_CUDA_NOTE "LibTorch has no CUDA")
if(P4S_WITH_CUDA STREQUAL "OFF")
  set(P4S_CUDA_NOTE "P4S_WITH_CUDA=OFF")
elseif(P4S_HAVE_TORCH AND (TARGET torch_cuda OR TORCH_CUDA_LIBRARIES))
  find_package(CUDAToolkit QUIET)
  if(TARGET CUDA::cudart)
    set(P4S_HAVE_CUDA ON)
    set(P4S_CUDA_NOTE "CUDA-enabled LibTorch, CUDA toolkit ${CUDAToolkit_VERSION} (${CUDAToolkit_LIBRARY_DIR})")
  elseif(P4S_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "P4S_WITH_CUDA=ON: the LibTorch found has CUDA, but no CUDA toolkit was "
                        "found for the bench's own CUDA calls; set CUDAToolkit_ROOT")
  else()
    set(P4S_CUDA_NOTE "LibTorch has CUDA, but no CUDA toolkit was found (set CUDAToolkit_ROOT)")
  endif()
elseif(P4S_WITH_CUDA STREQUAL "ON")
  message(FATAL_ERROR "P4S_WITH_CUDA=ON but the LibTorch found has no CUDA (${P4S_TORCH_NOTE})")
endif()
# Without the CUDA path, its sources are still compiled (never linked) where LibTorch ships its
# c10/cuda headers and a toolkit's runtime headers are found, so that they stay compilable on
# machines without a GPU.
if(P4S_HAVE_TORCH AND NOT P4S_HAVE_CUDA AND NOT P4S_WITH_CUDA STREQUAL "OFF")
  find_path(P4S_TORCH_C10_CUDA_INCLUDE_DIR c10/cuda/CUDACachingAllocator.h
            PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
  find_path(P4S_CUDA_RUNTIME_INCLUDE_DIR cuda_runtime_api.h
            HINTS ${_cuda_roots} PATH_SUFFIXES include targets/x86_64-linux/include targets/sbsa-linux/include)
  if(P4S_TORCH_C10_CUDA_INCLUDE_DIR AND P4S_CUDA_RUNTIME_INCLUDE_DIR)
    set(P4S_CUDA_COMPILE_CHECK ON)
    string(APPEND P4S_CUDA_NOTE "; its sources compile-checked against LibTorch's c10/cuda headers "
                                "and ${P4S_CUDA_RUNTIME_INCLUDE_DIR}")
  endif()
endif()

# CUPTI: header and library from the CUDA toolkit, without needing a GPU or nvcc.
set(P4S_HAVE_CUPTI OFF)
set(P4S_CUPTI_NOTE "P4S_WITH_CUPTI=OFF")
if(NOT P4S_WITH_CUPTI STREQUAL "OFF")
  find_path(P4S_CUPTI_INCLUDE_DIR cupti_activity.h
            HINTS ${_cuda_roots} PATH_SUFFIXES include extras/CUPTI/include
                  targets/x86_64-linux/include targets/sbsa-linux/include)
  find_library(P4S_CUPTI_LIBRARY cupti
               HINTS ${_cuda_roots} PATH_SUFFIXES lib64 lib extras/CUPTI/lib64
                     targets/x86_64-linux/lib targets/sbsa-linux/lib)
  find_path(P4S_CUDA_INCLUDE_DIR cuda.h HINTS ${_cuda_roots} PATH_SUFFIXES include)
  if(P4S_CUPTI_INCLUDE_DIR AND P4S_CUPTI_LIBRARY AND P4S_CUDA_INCLUDE_DIR)
    set(P4S_HAVE_CUPTI ON)
    set(P4S_CUPTI_NOTE "${P4S_CUPTI_LIBRARY}")
    add_library(p4s::cupti_lib UNKNOWN IMPORTED)
    set_target_properties(p4s::cupti_lib PROPERTIES
      IMPORTED_LOCATION "${P4S_CUPTI_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${P4S_CUPTI_INCLUDE_DIR};${P4S_CUDA_INCLUDE_DIR}")
  elseif(P4S_WITH_CUPTI STREQUAL "ON")
    message(FATAL_ERROR "P4S_WITH_CUPTI=ON but cupti_activity.h / libcupti were not found; "
                        "set CUDAToolkit_ROOT")
  else()
    set(P4S_CUPTI_NOTE "not found (set CUDAToolkit_ROOT to a CUDA toolkit with CUPTI)")
  endif()
endif()

if(P4S_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

function(p4s_print_summary)
  message(STATUS "perf4sight-cpp configuration:")
  message(STATUS "  LibTorch (builder, bench): ${P4S_HAVE_TORCH} -- ${P4S_TORCH_NOTE}")
  message(STATUS "  CUDA path in bench:        ${P4S_HAVE_CUDA} -- ${P4S_CUDA_NOTE}")
  message(STATUS "  CUPTI kernel capture:      ${P4S_HAVE_CUPTI} -- ${P4S_CUPTI_NOTE}")
  message(STATUS "  Tests:                     ${P4S_BUILD_TESTS}")
  if(P4S_SANITIZE OR P4S_FUZZ)
    message(STATUS "  ASan + UBSan:              ON")
  else()
    message(STATUS "  ASan + UBSan:              OFF")
  endif()
  message(STATUS "  libFuzzer targets (fuzz/): ${P4S_FUZZ}")
  message(STATUS "  Change with -DP4S_WITH_TORCH/-DP4S_WITH_CUDA/-DP4S_WITH_CUPTI=AUTO|ON|OFF")
endfunction()
