# find_package(CapnProto) for projects that enable only C++.
#
# Debian's CapnProtoConfig.cmake checks for libatomic with
# check_library_exists(), which compiles a C test and fails with "libatomic
# not found" in a project declared `project(x CXX)`, as most C++ projects are.
# The check skips itself when its result variable is already set, so we answer
# it first, with a C++ program linked against libatomic.
include_guard(GLOBAL)
if(NOT DEFINED FOUND_LIBATOMIC)
  include(CheckCXXSourceCompiles)
  include(CMakePushCheckState)
  cmake_push_check_state(RESET)
  set(CMAKE_REQUIRED_LIBRARIES atomic)
  set(CMAKE_REQUIRED_QUIET ON)
  check_cxx_source_compiles("int main() { return 0; }" FOUND_LIBATOMIC)
  cmake_pop_check_state()
endif()
