# Configures PROJECT and passes when that fails with MESSAGE.
file(REMOVE_RECURSE "${BINARY_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${PROJECT} -B ${BINARY_DIR} -G ${GENERATOR}
                        -DCMAKE_CXX_COMPILER=${COMPILER} -DPROCXY_SOURCE_DIR=${PROCXY_SOURCE_DIR}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(result EQUAL 0)
  message(FATAL_ERROR "${PROJECT} configured; it must fail with: ${MESSAGE}")
endif()
string(REGEX REPLACE "[ \t\r\n]+" " " flat "${out}")  # CMake wraps its messages
string(FIND "${flat}" "${MESSAGE}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "${PROJECT} failed without the message '${MESSAGE}':\n${out}")
endif()
