# Finds libclang 14 and clang's resource directory (its builtin headers such as
# stddef.h), which procxy-gen must pass to libclang to parse system headers.
find_program(PROCXY_LLVM_CONFIG NAMES llvm-config-14 llvm-config
             HINTS /usr/lib/llvm-14/bin REQUIRED)
execute_process(COMMAND ${PROCXY_LLVM_CONFIG} --includedir OUTPUT_VARIABLE _llvm_include
                OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${PROCXY_LLVM_CONFIG} --libdir OUTPUT_VARIABLE _llvm_libdir
                OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${PROCXY_LLVM_CONFIG} --version OUTPUT_VARIABLE _llvm_version
                OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
find_library(PROCXY_LIBCLANG NAMES clang libclang HINTS ${_llvm_libdir} NO_DEFAULT_PATH REQUIRED)
set(PROCXY_CLANG_RESOURCE_DIR "${_llvm_libdir}/clang/${_llvm_version}")
if(NOT EXISTS "${PROCXY_CLANG_RESOURCE_DIR}/include/stddef.h")
  message(FATAL_ERROR "procxy: clang's resource directory ${PROCXY_CLANG_RESOURCE_DIR} has no include/stddef.h "
                      "(install clang-14 / libclang-common-14-dev)")
endif()

add_library(procxy_libclang INTERFACE)
target_include_directories(procxy_libclang SYSTEM INTERFACE ${_llvm_include})
target_link_libraries(procxy_libclang INTERFACE ${PROCXY_LIBCLANG})
