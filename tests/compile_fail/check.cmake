# Compiles SOURCE with COMPILER and FLAGS (a ;-list), and passes when the
# compile fails with exactly one error, matching MESSAGE: a mistake gives one
# clear message, not the first of pages.
execute_process(COMMAND ${COMPILER} ${FLAGS} -fsyntax-only ${SOURCE}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled; it must fail with: ${MESSAGE}")
endif()
if(NOT out MATCHES "${MESSAGE}")
  message(FATAL_ERROR "${SOURCE} failed without the message '${MESSAGE}':\n${out}")
endif()
string(REGEX MATCHALL "error:" errors "${out}")
list(LENGTH errors count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "${SOURCE}: ${count} errors, expected only the message:\n${out}")
endif()
