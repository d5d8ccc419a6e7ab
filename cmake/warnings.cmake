# Warnings are errors for our own code; chaos_target_defaults() is applied to
# every target we define (never to generated protobuf sources, see proto/).
# Not -Wnull-dereference: GCC 12 reports it at -O2 from inside libstdc++'s
# basic_string and Boost.Asio's scheduler, never from our own code.
set(CHAOS_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough -Werror)

# Unity builds compile each target's sources in batches: the gRPC, protobuf
# and gtest headers every file includes are parsed once per batch, which
# halves a fresh build's compile time (scripts/test turns it on). Names in
# anonymous namespaces must therefore differ between the files of a target.
option(CHAOS_UNITY_BUILD "Compile each target's sources in batches (faster fresh builds)" OFF)
set(CHAOS_UNITY_BATCH 8 CACHE STRING "Sources per unity batch (CHAOS_UNITY_BUILD)")

if(CHAOS_SANITIZE)
  set(CHAOS_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
  add_compile_options(${CHAOS_SANITIZER_FLAGS})
  # GCC 12 reports false "maybe-uninitialized" inside libstdc++'s std::regex and
  # std::function once ASan instruments them at -O2 (GCC PR 105562 and kin);
  # the non-sanitized build keeps the warning as an error.
  add_compile_options(-Wno-maybe-uninitialized)
  add_link_options(${CHAOS_SANITIZER_FLAGS})
  # Position-dependent executables in the sanitized build: a PIE test
  # program of this size carries 2.6 million relative relocations, and
  # applying them (writing every pointer-holding page of a 70 MB data
  # segment) was half of each test process's 0.36 s start-up. Each gtest
  # case runs in its own process, so that start-up was most of the unit
  # tests' time. Release builds stay PIE (ASLR).
  add_link_options(-no-pie)
  # -O1 is what the sanitizers are designed for, and it compiles about a
  # quarter faster than -O2 under instrumentation. -g1 keeps the line tables
  # the sanitizers' stack traces need (file:line per frame) without the
  # variable and type information only a debugger reads: it compiles our
  # heaviest files a quarter to a third faster and halves the objects.
  # Together they keep CI's fresh build inside its budget.
  set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -g1 -DNDEBUG")
endif()

# In the sanitized build, the code whose speed no test depends on (tests,
# their support, the orchestrator and the lab) compiles at -O0: half the
# compile time of -O1 for those files, which are half of the build. The
# agent, common, metrics and proto keep -O1: the packet engine's and the
# faults' timing is what their tests exercise.
function(chaos_target_defaults target)
  target_compile_options(${target} PRIVATE ${CHAOS_WARNINGS})
  if(CHAOS_UNITY_BUILD)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${CHAOS_UNITY_BATCH})
  endif()
  if(CHAOS_SANITIZE)
    get_target_property(source_dir ${target} SOURCE_DIR)
    file(RELATIVE_PATH relative ${PROJECT_SOURCE_DIR} ${source_dir})
    if(relative MATCHES "^(tests|orchestrator|lab)(/|$)")
      target_compile_options(${target} PRIVATE -O0)
    endif()
  endif()
endfunction()
