# Sanitizers and fuzzing instrumentation for neuralom's own targets.
#
# NEURALOM_SANITIZE (a comma-separated list: address, undefined, leak) instruments the library,
# the CLI, the unit tests and the fuzz targets; third-party code (LibTorch, HDF5, OpenBLAS, ...)
# is used as installed, uninstrumented. UBSan is made fatal (-fno-sanitize-recover) so that a
# finding fails the test that triggered it instead of scrolling past in a log.
#
# NEURALOM_FUZZ (clang only) additionally compiles the library with -fsanitize=fuzzer-no-link, so
# that libFuzzer sees the coverage of the parsers it drives, and links the fuzz targets with
# libFuzzer. The coverage callbacks are provided by the sanitizer runtime, hence fuzzing needs a
# sanitizer; address,undefined is chosen when NEURALOM_SANITIZE is empty.

set(_neuralom_known_sanitizers address undefined leak)

if(NEURALOM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NEURALOM_FUZZ needs clang (libFuzzer); configure with "
      "-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 (found ${CMAKE_CXX_COMPILER_ID})")
  endif()
  if(NOT NEURALOM_SANITIZE)
    set(NEURALOM_SANITIZE "address,undefined" CACHE STRING
      "Sanitizers for neuralom's own code and tests, comma-separated: address, undefined, leak (empty = none)" FORCE)
    message(STATUS "neuralom: NEURALOM_FUZZ is ON, using NEURALOM_SANITIZE=${NEURALOM_SANITIZE}")
  endif()
endif()

set(NEURALOM_SANITIZER_FLAGS "")
set(NEURALOM_SANITIZER_DEFINITIONS "")
if(NEURALOM_SANITIZE)
  if(MSVC)
    message(FATAL_ERROR "NEURALOM_SANITIZE is supported with GCC and Clang only")
  endif()
  string(REPLACE "," ";" _neuralom_sanitizers "${NEURALOM_SANITIZE}")
  foreach(_s IN LISTS _neuralom_sanitizers)
    if(NOT _s IN_LIST _neuralom_known_sanitizers)
      message(FATAL_ERROR "NEURALOM_SANITIZE: unknown sanitizer '${_s}' (known: ${_neuralom_known_sanitizers})")
    endif()
  endforeach()
  string(REPLACE ";" "," _neuralom_sanitize_list "${_neuralom_sanitizers}")
  set(NEURALOM_SANITIZER_FLAGS -fsanitize=${_neuralom_sanitize_list} -fno-omit-frame-pointer)
  set(NEURALOM_SANITIZER_DEFINITIONS NEURALOM_SANITIZED=1)
  if("address" IN_LIST _neuralom_sanitizers)
    list(APPEND NEURALOM_SANITIZER_DEFINITIONS NEURALOM_ASAN=1)
  endif()
  if("undefined" IN_LIST _neuralom_sanitizers)
    list(APPEND NEURALOM_SANITIZER_FLAGS -fno-sanitize-recover=undefined)
  endif()
  message(STATUS "neuralom: sanitizers ${_neuralom_sanitize_list} (suppressions: tests/sanitizers/)")
endif()

# neuralom_target_sanitizers(<target>)
# Compiles and links one of our own targets with the configured sanitizers (nothing when none).
# The code learns which from two definitions, set here only: NEURALOM_SANITIZED (any sanitizer:
# e.g. the CLI then leaves crash signals to the sanitizer's handlers) and NEURALOM_ASAN
# (AddressSanitizer: poisoning of cached blocks, sanitizer reports from isolated children).
function(neuralom_target_sanitizers target)
  if(NOT NEURALOM_SANITIZER_FLAGS)
    return()
  endif()
  target_compile_options(${target} PRIVATE ${NEURALOM_SANITIZER_FLAGS})
  target_link_options(${target} PRIVATE ${NEURALOM_SANITIZER_FLAGS})
  target_compile_definitions(${target} PRIVATE ${NEURALOM_SANITIZER_DEFINITIONS})
  if(NEURALOM_FUZZ)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# Runtime defaults and leak suppressions compiled into every sanitized executable
# (cmake/sanitizer_defaults.cpp.in); the suppressions and their justifications live in
# tests/sanitizers/lsan.supp.
if(NEURALOM_SANITIZER_FLAGS)
  set(_neuralom_lsan_file "${PROJECT_SOURCE_DIR}/tests/sanitizers/lsan.supp")
  set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_neuralom_lsan_file}")
  file(READ "${_neuralom_lsan_file}" NEURALOM_LSAN_SUPPRESSIONS)
  # halt_on_error: the first report fails the test. check_initialization_order/strict_init_order:
  # static-initialisation-order bugs in our globals. detect_stack_use_after_return: dangling
  # references to locals (tensors' data pointers, string views).
  set(NEURALOM_ASAN_OPTIONS
    "halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1")
  set(NEURALOM_UBSAN_OPTIONS "halt_on_error=1:print_stacktrace=1")
  # The leak suppressions name functions, which only a symbolized stack shows: without a symbolizer
  # a suppressed third-party leak is reported as a leak. The runtimes look for `llvm-symbolizer` on
  # PATH, which Debian's clang-14 does not provide (its llvm-14 package has it under
  # /usr/lib/llvm-14/bin); name the one found here.
  find_program(NEURALOM_LLVM_SYMBOLIZER NAMES llvm-symbolizer llvm-symbolizer-14 llvm-symbolizer-15 llvm-symbolizer-16
    HINTS /usr/lib/llvm-14/bin /usr/lib/llvm-15/bin /usr/lib/llvm-16/bin
    DOC "llvm-symbolizer for sanitizer reports (and the leak suppressions, which match function names)")
  if(NEURALOM_LLVM_SYMBOLIZER)
    string(APPEND NEURALOM_ASAN_OPTIONS ":external_symbolizer_path=${NEURALOM_LLVM_SYMBOLIZER}")
    string(APPEND NEURALOM_UBSAN_OPTIONS ":external_symbolizer_path=${NEURALOM_LLVM_SYMBOLIZER}")
  else()
    message(WARNING "neuralom: no llvm-symbolizer found (Debian: apt-get install llvm-14): sanitizer reports "
      "will not be symbolized, and the leak suppressions of tests/sanitizers/lsan.supp, which name "
      "functions, will not match")
  endif()
  configure_file("${PROJECT_SOURCE_DIR}/cmake/sanitizer_defaults.cpp.in"
                 "${PROJECT_BINARY_DIR}/generated/sanitizer_defaults.cpp" @ONLY)
endif()

# neuralom_executable_sanitizers(<target>)
# neuralom_target_sanitizers() plus the runtime defaults above (executables only).
function(neuralom_executable_sanitizers target)
  neuralom_target_sanitizers(${target})
  if(NEURALOM_SANITIZER_FLAGS)
    target_sources(${target} PRIVATE "${PROJECT_BINARY_DIR}/generated/sanitizer_defaults.cpp")
  endif()
endfunction()
