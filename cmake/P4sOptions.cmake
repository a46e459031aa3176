# Build options. Optional parts default to AUTO: they are built when what they need is found,
# and the summary at the end of configuration says what was found and how to change it.
set(P4S_WITH_TORCH AUTO CACHE STRING "Build the LibTorch parts (builder, bench): AUTO, ON or OFF")
set(P4S_WITH_CUDA AUTO CACHE STRING "Build the CUDA path of bench (needs a CUDA-enabled LibTorch): AUTO, ON or OFF")
set(P4S_WITH_CUPTI AUTO CACHE STRING "Compile cupti/ against the CUDA toolkit's CUPTI: AUTO, ON or OFF")
set_property(CACHE P4S_WITH_TORCH P4S_WITH_CUDA P4S_WITH_CUPTI PROPERTY STRINGS AUTO ON OFF)
option(P4S_BUILD_TESTS "Build the GoogleTest suite" ON)
option(P4S_WARNINGS_AS_ERRORS "Treat warnings in the project's own code as errors" ON)
option(P4S_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)

foreach(opt P4S_WITH_TORCH P4S_WITH_CUDA P4S_WITH_CUPTI)
  if(NOT ${opt} MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "${opt}=${${opt}}: must be AUTO, ON or OFF")
  endif()
endforeach()
