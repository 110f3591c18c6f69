# procxy_generate() and procxy_add_agent(): generate and build procxy proxies
# and stubs as part of a target.
#
# procxy_generate(TARGET <target> HEADERS <header>... [OUTPUT_DIR <dir>]
#                 [EXTRA_ARGS <arg>...])
#
#   Runs procxy-gen on each header at build time, with the target's include
#   directories, compile definitions and C++ standard, compiles the generated
#   Cap'n Proto schema and sources into <target>, adds the output directory to
#   its include path and links procxy::runtime. The generated files are
#   rewritten only when a header or anything it includes changes. A target
#   <target>_procxy_generate generates them alone (for an IDE, before the first
#   full build).
#
#   Arguments:
#     TARGET      the executable or library the classes belong to
#     HEADERS     headers with PROCXY_REMOTE classes (relative to the current
#                 source directory, or absolute)
#     OUTPUT_DIR  where generated files go (default:
#                 ${CMAKE_CURRENT_BINARY_DIR}/procxy_generated/<target>)
#     EXTRA_ARGS  more arguments for procxy-gen: its options, then, after a
#                 "--", compiler flags to parse the headers with (after the
#                 target's own), as on procxy-gen's command line
#
#   The generator run is procxy::gen, the procxy-gen of the package found, or
#   the cache variable PROCXY_GEN_EXECUTABLE when it is set: in a cross build,
#   point it at a procxy-gen that runs on the build machine.
#
#   Example:
#     add_executable(app main.cpp calculator.cpp)
#     procxy_generate(TARGET app HEADERS calculator.h)
#     # main.cpp: #include "calculator.procxy.h"
#
# procxy_add_agent(NAME <executable> TARGET <library> [FOR <app>...])
#
#   Builds <executable>, a dedicated child program that serves every class
#   procxy_generate() added to <library>. Point Options::executable at it.
#
#   Arguments:
#     NAME    the agent executable to add
#     TARGET  the library (static, object or shared) holding the classes; an
#             executable is refused at configure time
#     FOR     apps that spawn from the agent: each depends on it (building the
#             app builds the agent), and the agent is written to the first
#             app's runtime output directory, so that a relative
#             Options::executable = "<executable>" finds it
#
#   Example:
#     add_library(engine STATIC engine.cpp)
#     procxy_generate(TARGET engine HEADERS engine.h)
#     add_executable(app main.cpp)
#     target_link_libraries(app PRIVATE engine)
#     procxy_add_agent(NAME engine-agent TARGET engine FOR app)

include_guard(GLOBAL)

set(_PROCXY_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(PROCXY_GEN_EXECUTABLE "" CACHE FILEPATH
    "procxy-gen for procxy_generate() to run instead of procxy::gen (cross builds)")

function(procxy_generate)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TARGET;OUTPUT_DIR" "HEADERS;EXTRA_ARGS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "procxy_generate: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_TARGET OR NOT TARGET "${arg_TARGET}")
    message(FATAL_ERROR "procxy_generate: TARGET must name an existing target (got '${arg_TARGET}')")
  endif()
  if(NOT arg_HEADERS)
    message(FATAL_ERROR "procxy_generate: no HEADERS given for target ${arg_TARGET}")
  endif()
  if(PROCXY_GEN_EXECUTABLE)
    if(NOT EXISTS "${PROCXY_GEN_EXECUTABLE}")
      message(FATAL_ERROR "procxy_generate: PROCXY_GEN_EXECUTABLE is '${PROCXY_GEN_EXECUTABLE}', which does not exist")
    endif()
    set(generator "${PROCXY_GEN_EXECUTABLE}")
    set(generator_dependency "${PROCXY_GEN_EXECUTABLE}")
  elseif(TARGET procxy::gen)
    set(generator procxy::gen)
    set(generator_dependency procxy::gen)
  else()
    message(FATAL_ERROR "procxy_generate: procxy::gen is not available; use find_package(procxy) or "
                        "add_subdirectory(procxy) first, or set PROCXY_GEN_EXECUTABLE")
  endif()
  # Debian's CapnProtoConfig gives its imported executables a wrong location;
  # the plain variables are right.
  if(NOT CAPNP_EXECUTABLE OR NOT CAPNPC_CXX_EXECUTABLE)
    message(FATAL_ERROR "procxy_generate: the Cap'n Proto compiler was not found (install capnproto)")
  endif()
  if(NOT arg_OUTPUT_DIR)
    set(arg_OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/procxy_generated/${arg_TARGET}")
  endif()
  file(MAKE_DIRECTORY "${arg_OUTPUT_DIR}")

  # The flags the target's own sources are compiled with, as procxy-gen
  # arguments after "--".
  set(t "${arg_TARGET}")
  set(includes "$<TARGET_PROPERTY:${t},INCLUDE_DIRECTORIES>")
  set(runtime_includes "$<TARGET_PROPERTY:procxy::runtime,INTERFACE_INCLUDE_DIRECTORIES>")
  set(defines "$<TARGET_PROPERTY:${t},COMPILE_DEFINITIONS>")
  set(standard "$<TARGET_PROPERTY:${t},CXX_STANDARD>")
  set(flags
    "$<$<BOOL:${includes}>:-I$<JOIN:${includes},$<SEMICOLON>-I>>"
    "-I$<JOIN:${runtime_includes},$<SEMICOLON>-I>"
    "$<$<BOOL:${defines}>:-D$<JOIN:${defines},$<SEMICOLON>-D>>"
    "$<$<BOOL:${standard}>:-std=c++${standard}>")

  set(extra_options ${arg_EXTRA_ARGS})
  set(extra_flags "")
  list(FIND arg_EXTRA_ARGS "--" separator)
  if(separator GREATER_EQUAL 0)
    list(SUBLIST arg_EXTRA_ARGS 0 ${separator} extra_options)
    math(EXPR first_flag "${separator} + 1")
    list(SUBLIST arg_EXTRA_ARGS ${first_flag} -1 extra_flags)
  endif()

  # One procxy-gen run for all headers, so that it can diagnose clashes
  # between them (the same class in two headers, two headers named alike).
  set(headers "")
  set(outputs "")
  set(schemas "")
  set(sources "")
  set(include_dirs "${arg_OUTPUT_DIR}")
  foreach(header IN LISTS arg_HEADERS)
    get_filename_component(header "${header}" ABSOLUTE)
    if(NOT EXISTS "${header}")
      message(FATAL_ERROR "procxy_generate: header ${header} does not exist")
    endif()
    get_filename_component(stem "${header}" NAME_WE)
    get_filename_component(header_dir "${header}" DIRECTORY)
    set(out "${arg_OUTPUT_DIR}/${stem}.procxy")
    list(APPEND headers "${header}")
    list(APPEND outputs "${out}.h" "${out}.cpp" "${out}.capnp" "${out}.capnp.h" "${out}.capnp.c++")
    list(APPEND schemas "${out}.capnp")
    list(APPEND sources "${out}.cpp" "${out}.capnp.c++")
    list(APPEND include_dirs "${header_dir}")
  endforeach()
  list(GET outputs 0 first_output)
  string(REGEX REPLACE "\\.h$" ".d" depfile "${first_output}")
  list(REMOVE_DUPLICATES include_dirs)
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${generator} -o "${arg_OUTPUT_DIR}" --depfile "${depfile}" ${extra_options} ${headers}
            -- ${flags} ${extra_flags}
    COMMAND "${CAPNP_EXECUTABLE}" compile "-o${CAPNPC_CXX_EXECUTABLE}:${arg_OUTPUT_DIR}"
            "--src-prefix=${arg_OUTPUT_DIR}" ${schemas}
    DEPENDS ${headers} ${generator_dependency}
    DEPFILE "${depfile}"
    COMMENT "procxy-gen for ${t}"
    COMMAND_EXPAND_LISTS VERBATIM)
  target_sources(${t} PRIVATE ${sources})
  # <target>_procxy_generate runs the generation alone; a target given headers
  # in several calls gets one more target per call, on which it depends.
  if(NOT TARGET ${t}_procxy_generate)
    add_custom_target(${t}_procxy_generate DEPENDS ${outputs})
    add_dependencies(${t} ${t}_procxy_generate)
  else()
    string(MD5 call_id "${outputs}")
    add_custom_target(${t}_procxy_generate_${call_id} DEPENDS ${outputs})
    add_dependencies(${t}_procxy_generate ${t}_procxy_generate_${call_id})
  endif()
  # PUBLIC: code that links a library uses its proxies too.
  foreach(dir IN LISTS include_dirs)
    target_include_directories(${t} PUBLIC "$<BUILD_INTERFACE:${dir}>")
  endforeach()
  target_link_libraries(${t} PUBLIC procxy::runtime)
endfunction()

function(procxy_add_agent)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;TARGET" "FOR")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "procxy_add_agent: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_NAME OR NOT arg_TARGET OR NOT TARGET "${arg_TARGET}")
    message(FATAL_ERROR "procxy_add_agent: needs NAME <executable> and TARGET <existing library> "
                        "(got NAME '${arg_NAME}' TARGET '${arg_TARGET}')")
  endif()
  # An executable cannot be linked into another one: say so now, not at link
  # time.
  get_target_property(type "${arg_TARGET}" TYPE)
  if(NOT type MATCHES "^(STATIC_LIBRARY|OBJECT_LIBRARY|SHARED_LIBRARY)$")
    string(TOLOWER "${type}" kind)
    string(REPLACE "_" " " kind "${kind}")
    message(FATAL_ERROR "procxy_add_agent: TARGET ${arg_TARGET} is not a library (its type is ${kind}); an agent is built "
                        "from a library that holds the classes. Move the classes (and their procxy_generate) "
                        "into an add_library(... STATIC ...) and link it into ${arg_TARGET} and the agent, or "
                        "spawn from ${arg_TARGET} itself without an agent.")
  endif()
  foreach(app IN LISTS arg_FOR)
    if(NOT TARGET "${app}")
      message(FATAL_ERROR "procxy_add_agent: FOR ${app}: no such target")
    endif()
  endforeach()
  if(EXISTS "${_PROCXY_CMAKE_DIR}/../runtime/src/child/agent_main.cpp")
    set(main "${_PROCXY_CMAKE_DIR}/../runtime/src/child/agent_main.cpp")  # source tree
  else()
    set(main "${_PROCXY_AGENT_MAIN}")  # installed package
  endif()
  add_executable(${arg_NAME} "${main}")
  # The classes register themselves from static initializers the agent never
  # references, so the whole library must be linked in.
  target_link_libraries(${arg_NAME} PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,${arg_TARGET}>" procxy::runtime)
  # FOR: building an app builds its agent, next to the app, where a relative
  # Options::executable (resolved against the parent's own directory) finds it.
  # One app decides the agent's directory; several apps should share one.
  foreach(app IN LISTS arg_FOR)
    add_dependencies(${app} ${arg_NAME})
  endforeach()
  if(arg_FOR)
    list(GET arg_FOR 0 first_app)
    get_target_property(app_dir ${first_app} RUNTIME_OUTPUT_DIRECTORY)
    if(NOT app_dir)
      get_target_property(app_binary_dir ${first_app} BINARY_DIR)
      set(app_dir "${app_binary_dir}")
    endif()
    set_target_properties(${arg_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${app_dir}")
  endif()
endfunction()
