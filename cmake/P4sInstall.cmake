# What `cmake --install` puts under a prefix: the programs (bench, p4s, p4s-torch), the static
# libraries a user links with their headers, and the CMake package perf4sight, so that another
# project writes
#
#   find_package(perf4sight 0.1 CONFIG REQUIRED COMPONENTS bench_plugin)   # LibTorch's part
#   target_link_libraries(my_bench PRIVATE perf4sight::bench_plugin)
#
#   find_package(perf4sight 0.1 CONFIG REQUIRED)                            # torch-free
#   target_link_libraries(my_tool PRIVATE perf4sight::fit)
#
# Two export sets: perf4sight-core (torch-free, always) and perf4sight-torch (LibTorch and
# Google Benchmark, where this build has them), so that the torch-free part loads on a machine
# without LibTorch. cmake/perf4sight-config.cmake.in finds the dependencies each one names.
# Included after every part's folder, whose targets it installs; the layout:
#
#   bin/                           bench, p4s, p4s-torch
#   lib/                           libp4s_*.a
#   include/perf4sight/<part>/     the parts' headers, as the repository has them ("common/...")
#   include/perf4sight/benchmark.hpp   the plugin's API (<perf4sight/benchmark.hpp>)
#   lib/cmake/perf4sight/          the package: config, version, the two export files
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# perf4sight::fit: what `p4s fit`, `predict`, `evaluate` and `compare` are made of, as one
# torch-free target (the results reader, the simulation and Armadillo come with them).
add_library(p4s_fit INTERFACE)
add_library(p4s::fit ALIAS p4s_fit)
target_link_libraries(p4s_fit INTERFACE p4s::predictors p4s::evaluate p4s::compare p4s::modelgen)
set_target_properties(p4s_fit PROPERTIES EXPORT_NAME fit)

set(P4S_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/perf4sight CACHE STRING
    "Where the perf4sight CMake package goes, relative to the install prefix")
# The headers' folder is the one the targets' INSTALL_INTERFACE include paths name.
set(_p4s_include_dest include/perf4sight)

# The programs. Their run-time path keeps the folders of the shared libraries they were linked
# with outside this build (a LibTorch unpacked in a folder, the CUDA toolkit), which the
# installed copies would otherwise lose; Debian's own libraries need none.
# LibTorch's own folder is named explicitly: its libraries are imported targets, whose folders
# INSTALL_RPATH_USE_LINK_PATH leaves out (the torch wheel's LibTorch in .deps/).
set(_p4s_torch_rpath)
if(TORCH_LIBRARY)
  get_filename_component(_p4s_torch_libdir "${TORCH_LIBRARY}" DIRECTORY)
  if(NOT _p4s_torch_libdir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
    set(_p4s_torch_rpath "${_p4s_torch_libdir}")
  endif()
endif()
foreach(_p4s_exe bench p4s p4s-torch)
  if(TARGET ${_p4s_exe})
    set_target_properties(${_p4s_exe} PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON
                                                 INSTALL_RPATH "${_p4s_torch_rpath}")
    install(TARGETS ${_p4s_exe} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

# The torch-free libraries. cupti/ needs no LibTorch (CUPTI is opened at run time), and
# sweep_guard only the results reader; the bench plugin's interface names both.
install(TARGETS p4s_common p4s_modelgen p4s_results_format p4s_sim p4s_predictors p4s_evaluate
                p4s_compare p4s_sweep_guard p4s_cupti p4s_fit
        EXPORT perf4sight-core
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(_p4s_part common modelgen results_format sim predictors evaluate compare sweep_guard cupti)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${_p4s_part}/
          DESTINATION ${_p4s_include_dest}/${_p4s_part}
          FILES_MATCHING PATTERN "*.hpp"
          PATTERN "tests" EXCLUDE
          # modelgen/torch/ includes LibTorch: it goes with the torch part below.
          REGEX "/modelgen/torch$" EXCLUDE)
endforeach()
install(EXPORT perf4sight-core
        NAMESPACE perf4sight::
        FILE perf4sight-core-targets.cmake
        DESTINATION ${P4S_INSTALL_CMAKEDIR})

# The LibTorch part: the NetSpec -> module builder and training step, TorchScript import, and
# the bench as a library (perf4sight::bench_plugin).
if(P4S_HAVE_TORCH)
  set(_p4s_torch_targets p4s_modelgen_torch p4s_torchscript_import)
  if(TARGET p4s_bench_lib)
    list(APPEND _p4s_torch_targets p4s_bench_lib)
  endif()
  install(TARGETS ${_p4s_torch_targets}
          EXPORT perf4sight-torch
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/modelgen/torch/
          DESTINATION ${_p4s_include_dest}/modelgen/torch
          FILES_MATCHING PATTERN "*.hpp")
  if(TARGET p4s_bench_lib)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/bench/
            DESTINATION ${_p4s_include_dest}/bench
            FILES_MATCHING PATTERN "*.hpp" PATTERN "tests" EXCLUDE)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/perf4sight/
            DESTINATION ${_p4s_include_dest}
            FILES_MATCHING PATTERN "*.hpp")
  endif()
  install(EXPORT perf4sight-torch
          NAMESPACE perf4sight::
          FILE perf4sight-torch-targets.cmake
          DESTINATION ${P4S_INSTALL_CMAKEDIR})
endif()

# The config is told what this build had (P4S_HAVE_TORCH: whether the torch part was
# installed; P4S_HAVE_CUDA: whether the bench plugin links the CUDA runtime) for its
# find_dependency calls.
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/perf4sight-config.cmake.in
  ${PROJECT_BINARY_DIR}/perf4sight-config.cmake
  INSTALL_DESTINATION ${P4S_INSTALL_CMAKEDIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/perf4sight-config-version.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/perf4sight-config.cmake
              ${PROJECT_BINARY_DIR}/perf4sight-config-version.cmake
        DESTINATION ${P4S_INSTALL_CMAKEDIR})
