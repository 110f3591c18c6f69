# Finds libclang 14 and clang's resource directory (its builtin headers such
# as stddef.h), which procxy-gen passes to libclang so it can parse system
# headers. Debian installs them under /usr/lib/llvm-14.
set(PROCXY_LLVM_ROOT "/usr/lib/llvm-14" CACHE PATH "Root of the LLVM 14 installation that provides libclang")
find_path(PROCXY_LIBCLANG_INCLUDE clang-c/Index.h HINTS "${PROCXY_LLVM_ROOT}/include" NO_DEFAULT_PATH)
find_library(PROCXY_LIBCLANG NAMES clang libclang HINTS "${PROCXY_LLVM_ROOT}/lib" NO_DEFAULT_PATH)
if(NOT PROCXY_LIBCLANG_INCLUDE OR NOT PROCXY_LIBCLANG)
  message(FATAL_ERROR "procxy: libclang 14 not found under ${PROCXY_LLVM_ROOT} "
                      "(install libclang-14-dev, or set PROCXY_LLVM_ROOT)")
endif()
file(GLOB _resource_headers "${PROCXY_LLVM_ROOT}/lib/clang/*/include/stddef.h")
if(NOT _resource_headers)
  message(FATAL_ERROR "procxy: clang's resource directory (lib/clang/<version>/include) is missing under "
                      "${PROCXY_LLVM_ROOT} (install libclang-common-14-dev)")
endif()
list(GET _resource_headers 0 _stddef)
get_filename_component(_resource_include "${_stddef}" DIRECTORY)
get_filename_component(PROCXY_CLANG_RESOURCE_DIR "${_resource_include}" DIRECTORY)

add_library(procxy_libclang INTERFACE)
target_include_directories(procxy_libclang SYSTEM INTERFACE "${PROCXY_LIBCLANG_INCLUDE}")
target_link_libraries(procxy_libclang INTERFACE "${PROCXY_LIBCLANG}")
