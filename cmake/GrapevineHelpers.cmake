# Shared build helpers: warning flags, one library helper, one test helper.

set(GRAPEVINE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor
    -Wcast-align -Woverloaded-virtual -Wno-unused-parameter
    # GCC 12 reports false positives inside Eigen's AVX-512 kernels (avx512fintrin.h).
    -Wno-maybe-uninitialized)

# Sanitizer build (preset "asan"): -DGRAPEVINE_SANITIZE=ON.
option(GRAPEVINE_SANITIZE "Build with AddressSanitizer + UBSan" OFF)

function(grapevine_target_defaults target)
  target_compile_options(${target} PRIVATE ${GRAPEVINE_WARNINGS})
  if(GRAPEVINE_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  if(GRAPEVINE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# grapevine_add_library(name SOURCES a.cc b.cc [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Creates target grapevine_<name>, with the repository root on the include path so
# headers are included as "learn/model.h".
function(grapevine_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(grapevine_${name} STATIC ${ARG_SOURCES})
  target_include_directories(grapevine_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(grapevine_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  grapevine_target_defaults(grapevine_${name})
endfunction()

# The flags of every test program (and of their shared precompiled header).
# Release builds compile the test programs' own code at -O1: the code under test is in
# the libraries (-O3); the tests' bodies are not hot, and -O1 roughly halves their
# compile time, most of a clean build (docs/design-notes.md "Build time").
function(grapevine_test_defaults target)
  grapevine_target_defaults(${target})
  # GCC 12 at -O1 reports false -Warray-bounds in libstdc++'s char_traits (GCC PR 105651).
  target_compile_options(${target} PRIVATE $<$<CONFIG:Release>:-O1> $<$<CONFIG:Release>:-Wno-array-bounds>)
  target_compile_definitions(${target} PRIVATE
      GRAPEVINE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      GRAPEVINE_BINARY_DIR="${PROJECT_BINARY_DIR}")
endfunction()

# grapevine_add_test(name SOURCES a_test.cc ... LABELS unit|sim|integration [DEPS ...]
#                    [TIMEOUT seconds] [SERIAL])
# SERIAL: ctest runs its cases alone (RUN_SERIAL), for tests whose checks are timings.
# One executable per call, discovered test by test so ctest reports each case.
function(grapevine_add_test name)
  cmake_parse_arguments(ARG "SERIAL" "TIMEOUT" "SOURCES;LABELS;DEPS" ${ARGN})
  if(NOT ARG_LABELS)
    message(FATAL_ERROR "grapevine_add_test(${name}): LABELS is required (unit, sim or integration)")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  grapevine_test_defaults(${name})
  target_precompile_headers(${name} REUSE_FROM grapevine_test_pch)  # tests/CMakeLists.txt
  set(serial FALSE)
  if(ARG_SERIAL)
    set(serial TRUE)
  endif()
  list(LENGTH ARG_LABELS n_labels)
  if(NOT n_labels EQUAL 1)
    # gtest_discover_tests splits a list value into separate property arguments.
    message(FATAL_ERROR "grapevine_add_test(${name}): exactly one label")
  endif()
  gtest_discover_tests(${name}
      PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} RUN_SERIAL ${serial}
      DISCOVERY_TIMEOUT 60)
endfunction()

# grapevine_add_bench(name SOURCES ... DEPS ...)
function(grapevine_add_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  grapevine_target_defaults(${name})
endfunction()
