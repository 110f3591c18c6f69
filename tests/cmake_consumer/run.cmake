# Installs this build of procxy into a scratch prefix, then configures, builds
# and runs a consumer project against it with find_package(procxy).
# Usage: cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -P run.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
macro(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "cmake_consumer: step failed (${result}): ${ARGN}")
  endif()
endmacro()
step(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/project" -B "${WORK_DIR}/build" -G Ninja
     "-DCMAKE_PREFIX_PATH=${prefix}"
     # The same flags as this build (sanitizers link only when both sides use them).
     "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
step(${CMAKE_COMMAND} --build "${WORK_DIR}/build" -j2)
step("${WORK_DIR}/build/consumer")
# Nothing to rebuild when nothing changed: the generator reruns only on input change.
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/build" -- -n -d explain
                OUTPUT_VARIABLE dry_run ERROR_VARIABLE explain)
if(dry_run MATCHES "procxy-gen")
  message(FATAL_ERROR "cmake_consumer: procxy-gen reran without any change:\n${dry_run}\n${explain}")
endif()
