# Run by ctest (through the include file chaos_add_gtest_suites writes):
# adds one test per gtest test suite of ${binary}. Inputs: binary, target,
# working_directory, suites_file, suite_properties, cmake_command.
#
# Also run as `cmake -Dchaos_failure=TEXT -P` by the stand-in test that
# stands for a binary whose suites could not be listed: it fails, saying why.
if(DEFINED chaos_failure)
  message(FATAL_ERROR "${chaos_failure}")
endif()
set(chaos_suites_script "${CMAKE_CURRENT_LIST_FILE}")

# The code that sets suite_properties on the test `name`.
function(chaos_suite_properties_code name out)
  set(code "set_tests_properties([==[${name}]==] PROPERTIES")
  foreach(item IN LISTS suite_properties)
    string(APPEND code " [==[${item}]==]")
  endforeach()
  set(${out} "${code})\n" PARENT_SCOPE)
endfunction()

# A failing test with the unit tests' labels in place of the binary's
# suites: a binary that was not built or cannot list its tests must fail
# the run (also `ctest -L unit`), never drop out of it. Not cached: the
# next ctest run lists again.
function(chaos_add_failing_stand_in name why)
  string(SUBSTRING "${why}" 0 4000 why)
  string(REPLACE "]==]" "] ==]" why "${why}")
  file(REMOVE "${suites_file}")
  get_filename_component(directory "${suites_file}" DIRECTORY)
  set(stand_in "${directory}/${name}.cmake")
  chaos_suite_properties_code("${name}" properties_code)
  file(WRITE "${stand_in}"
    "add_test([==[${name}]==] [==[${cmake_command}]==] [==[-Dchaos_failure=${target}: ${why}]==] -P [==[${chaos_suites_script}]==])\n"
    "${properties_code}")
  include("${stand_in}")
endfunction()

if(NOT EXISTS "${binary}")
  chaos_add_failing_stand_in("${target}_NOT_BUILT" "${binary} does not exist: build it first")
  return()
endif()

if(NOT EXISTS "${suites_file}"
   OR NOT "${suites_file}" IS_NEWER_THAN "${binary}"
   OR NOT "${suites_file}" IS_NEWER_THAN "${chaos_suites_script}"
   OR NOT "${suites_file}" IS_NEWER_THAN "${CMAKE_PARENT_LIST_FILE}")
  execute_process(COMMAND "${binary}" --gtest_list_tests
    WORKING_DIRECTORY "${working_directory}"
    OUTPUT_VARIABLE listing ERROR_VARIABLE listing_errors RESULT_VARIABLE listing_status
    TIMEOUT 60)
  if(NOT listing_status EQUAL 0)
    chaos_add_failing_stand_in("${target}_LISTING_FAILED"
      "${binary} --gtest_list_tests: ${listing_status}\n${listing_errors}")
    return()
  endif()
  # "Suite." or "Prefix/Suite/0.  # TypeParam = int" at column 0; the
  # indented lines are the cases.
  string(REPLACE ";" "\\;" listing "${listing}")
  string(REPLACE "\n" ";" lines "${listing}")
  set(code "")
  set(count 0)
  foreach(line IN LISTS lines)
    if(line STREQUAL "" OR line MATCHES "^ ")
      continue()
    endif()
    string(REGEX REPLACE "  #.*" "" suite "${line}")
    string(REGEX REPLACE "\\.$" "" suite "${suite}")
    if(suite STREQUAL line OR NOT suite MATCHES "^[A-Za-z0-9_/]+$")
      continue()  # not a suite line (gtest_main's banner, for one)
    endif()
    chaos_suite_properties_code("${suite}" properties_code)
    # A filter that runs no test fails (skipped_tests_marker.cc).
    string(APPEND code
      "add_test([==[${suite}]==] [==[${binary}]==] [==[--gtest_filter=${suite}.*]==])\n"
      "${properties_code}")
    math(EXPR count "${count} + 1")
  endforeach()
  if(count EQUAL 0)
    chaos_add_failing_stand_in("${target}_LISTED_NO_SUITE" "${binary} --gtest_list_tests listed no test suite")
    return()
  endif()
  file(WRITE "${suites_file}" "${code}")
endif()
include("${suites_file}")
