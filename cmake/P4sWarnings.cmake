# Warnings are errors in the project's own code; third-party headers come in as SYSTEM
# includes through their imported targets, so they do not trip this.
function(p4s_project_target target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual)
  if(P4S_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(P4S_SANITIZE OR P4S_FUZZ)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(P4S_FUZZ)
    # Coverage feedback for libFuzzer in all of our code; only fuzz/ links libFuzzer itself
    # (the sanitizer runtime serves the coverage hooks of the other programs).
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# Results must be the same bit for bit on every platform (model files, reports): forbid fusing
# a*b+c into one FMA, which some processors (aarch64) and compilers (clang) would do.
function(p4s_deterministic_target target)
  target_compile_options(${target} PRIVATE -ffp-contract=off)
endfunction()
