# chaos_add_gtest_suites(TARGET WORKING_DIRECTORY DIR PROPERTIES ...)
#
# One ctest test per gtest test suite of TARGET (named after the suite,
# running `TARGET --gtest_filter=Suite.*`), where gtest_discover_tests
# makes one per test case. Each ctest test is its own process, and a
# sanitized test process spends about 0.2 s starting before its first
# test: with ~1,300 unit test cases in ~275 suites, that start-up was most
# of the unit tests' time.
#
# Like gtest_discover_tests(DISCOVERY_MODE PRE_TEST), the suites are listed
# when ctest runs (the binary's --gtest_list_tests, again only once the
# binary changed), so configuring needs no built binary. PROPERTIES are
# set on every suite's test, one value per property (no ';' in a value).
function(chaos_add_gtest_suites target)
  cmake_parse_arguments(ARG "" "WORKING_DIRECTORY" "PROPERTIES" ${ARGN})
  set(stem "${CMAKE_CURRENT_BINARY_DIR}/${target}_suites")
  file(GENERATE OUTPUT "${stem}_include.cmake" CONTENT
"set(binary [==[$<TARGET_FILE:${target}>]==])
set(target [==[${target}]==])
set(working_directory [==[${ARG_WORKING_DIRECTORY}]==])
set(suites_file [==[${stem}_tests.cmake]==])
set(cmake_command [==[${CMAKE_COMMAND}]==])
set(suite_properties [==[${ARG_PROPERTIES};WORKING_DIRECTORY;${ARG_WORKING_DIRECTORY}]==])
include([==[${PROJECT_SOURCE_DIR}/cmake/gtest_suites_list.cmake]==])
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${stem}_include.cmake")
endfunction()
