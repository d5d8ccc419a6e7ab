# Run by ctest (through the include file chaos_add_gtest_suites writes):
# adds one test per gtest test suite of ${binary}. Inputs: binary, target,
# working_directory, suites_file, suite_properties.
if(NOT EXISTS "${binary}")
  add_test("${target}_NOT_BUILT" "${target}_NOT_BUILT")
  return()
endif()

if(NOT EXISTS "${suites_file}"
   OR NOT "${suites_file}" IS_NEWER_THAN "${binary}"
   OR NOT "${suites_file}" IS_NEWER_THAN "${CMAKE_CURRENT_LIST_FILE}"
   OR NOT "${suites_file}" IS_NEWER_THAN "${CMAKE_PARENT_LIST_FILE}")
  execute_process(COMMAND "${binary}" --gtest_list_tests
    WORKING_DIRECTORY "${working_directory}"
    OUTPUT_VARIABLE listing ERROR_VARIABLE listing_errors RESULT_VARIABLE listing_status
    TIMEOUT 30)
  if(NOT listing_status EQUAL 0)
    # Not a silent zero: a test that runs the listing again fails with its
    # output, so the binary shows as failed in the summary.
    file(WRITE "${suites_file}"
      "add_test([==[${target}_LISTING_FAILED]==] [==[${binary}]==] --gtest_list_tests)\n"
      "set_tests_properties([==[${target}_LISTING_FAILED]==] PROPERTIES TIMEOUT 30)\n")
  else()
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
      if(suite STREQUAL line OR suite MATCHES "[*?:]")
        continue()  # not a suite line (gtest_main's banner, for one)
      endif()
      string(APPEND code
        "add_test([==[${suite}]==] [==[${binary}]==] [==[--gtest_filter=${suite}.*]==])\n"
        "set_tests_properties([==[${suite}]==] PROPERTIES WORKING_DIRECTORY [==[${working_directory}]==])\n")
      set(index 0)
      list(LENGTH suite_properties property_values)
      while(index LESS property_values)
        list(GET suite_properties ${index} property)
        math(EXPR index "${index} + 1")
        list(GET suite_properties ${index} value)
        math(EXPR index "${index} + 1")
        string(APPEND code "set_tests_properties([==[${suite}]==] PROPERTIES [==[${property}]==] [==[${value}]==])\n")
      endwhile()
      math(EXPR count "${count} + 1")
    endforeach()
    if(count EQUAL 0)
      string(APPEND code "add_test([==[${target}_LISTED_NO_SUITE]==] [==[${binary}]==] --gtest_list_tests)\n"
        "set_tests_properties([==[${target}_LISTED_NO_SUITE]==] PROPERTIES WILL_FAIL TRUE)\n")
    endif()
    file(WRITE "${suites_file}" "${code}")
  endif()
endif()
include("${suites_file}")
