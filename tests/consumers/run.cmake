# Builds and runs outside projects against an installed procxy, as a user
# would: the CMake project in project/ (`project(consumer CXX)`, Release), the
# Makefile + pkg-config build of examples/makefile, and procxy-gen on its own.
#
#   cmake -DBUILD_DIR=<procxy build> -DPROCXY_SOURCE_DIR=<procxy source> -P run.cmake
#       installs that build, moves the prefix, and builds against it with the
#       source and build trees hidden (a private mount namespace, tmpfs over
#       both), so that nothing can reach them.
#   cmake -DPREFIX=/usr -DPROCXY_SOURCE_DIR=<procxy source> -P run.cmake
#       builds against a procxy installed there (the Debian packages).
#
# Optional: CXX_FLAGS, LINKER_FLAGS (sanitizers link only when both sides use them).
cmake_minimum_required(VERSION 3.25)

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "consumers: step failed (${result}): ${ARGN}")
  endif()
endfunction()

if(NOT PHASE STREQUAL "build")
  # Phase 1, with the trees in reach: the prefix and copies of the projects,
  # all in a scratch directory outside both trees.
  if(NOT PROCXY_SOURCE_DIR OR (NOT BUILD_DIR AND NOT PREFIX))
    message(FATAL_ERROR "consumers: needs -DPROCXY_SOURCE_DIR and -DBUILD_DIR or -DPREFIX")
  endif()
  set(tmp "$ENV{TMPDIR}")
  if(NOT tmp)
    set(tmp /tmp)
  endif()
  string(RANDOM LENGTH 8 id)
  set(work "${tmp}/procxy-consumers-${id}")
  file(MAKE_DIRECTORY "${work}")
  message(STATUS "consumers: working in ${work}")
  set(hide "")
  if(BUILD_DIR)
    step(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${work}/installed")
    file(RENAME "${work}/installed" "${work}/moved")  # a prefix copied elsewhere
    set(PREFIX "${work}/moved")
    set(hide "${BUILD_DIR}" "${PROCXY_SOURCE_DIR}")  # the build tree first: it may lie inside the source
  endif()
  file(COPY "${CMAKE_CURRENT_LIST_DIR}/project/" DESTINATION "${work}/project")
  file(COPY "${PROCXY_SOURCE_DIR}/examples/makefile" "${PROCXY_SOURCE_DIR}/examples/calculator"
       DESTINATION "${work}/examples")
  file(COPY "${CMAKE_CURRENT_LIST_FILE}" DESTINATION "${work}")
  set(launcher "")
  set(hidden "")
  if(hide)
    find_program(unshare unshare)
    execute_process(COMMAND ${unshare} --mount --map-root-user true RESULT_VARIABLE can_unshare
                    OUTPUT_QUIET ERROR_QUIET)
    if(unshare AND can_unshare EQUAL 0)
      set(mounts "")
      foreach(dir IN LISTS hide)
        string(APPEND mounts "mount -t tmpfs tmpfs '${dir}' && ")
      endforeach()
      set(launcher ${unshare} --mount --map-root-user --propagation private sh -c "${mounts}exec \"$@\"" sh)
      set(hidden "${hide}")
    else()
      message(WARNING "consumers: cannot make a mount namespace here (unshare); the source and build trees "
                      "stay in reach of the outside projects")
    endif()
  endif()
  set(phase2 ${launcher} ${CMAKE_COMMAND} -DPHASE=build "-DWORK=${work}" "-DPREFIX=${PREFIX}" "-DHIDDEN=${hidden}"
             "-DCXX_FLAGS=${CXX_FLAGS}" "-DLINKER_FLAGS=${LINKER_FLAGS}" -P "${work}/run.cmake")
  # From the scratch directory: a working directory inside a hidden tree
  # would still reach it.
  execute_process(COMMAND ${phase2} WORKING_DIRECTORY "${work}" RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "consumers: failed (${result}); the projects and their builds are in ${work}")
  endif()
  file(REMOVE_RECURSE "${work}")
  return()
endif()

# Phase 2: only the prefix and the copies.
foreach(dir IN LISTS HIDDEN)
  file(GLOB visible "${dir}/*")
  if(visible)
    message(FATAL_ERROR "consumers: ${dir} should be hidden, but holds ${visible}")
  endif()
endforeach()
set(prefix_args "")
if(NOT PREFIX STREQUAL "/usr")
  set(prefix_args "-DCMAKE_PREFIX_PATH=${PREFIX}")
endif()

# procxy-gen alone, given no flags: it finds procxy's headers from its own place.
step("${PREFIX}/bin/procxy-gen" -o "${WORK}/cli" "${WORK}/project/greeter.h")
if(NOT EXISTS "${WORK}/cli/greeter.procxy.h")
  message(FATAL_ERROR "consumers: procxy-gen wrote no greeter.procxy.h")
endif()

# The CMake project, Release, its generator run through PROCXY_GEN_EXECUTABLE
# (a wrapper that logs its arguments, as a cross build's host tool would be).
file(WRITE "${WORK}/host-tools/procxy-gen"
     "#!/bin/sh\necho \"$@\" >> '${WORK}/procxy-gen.log'\nexec '${PREFIX}/bin/procxy-gen' \"$@\"\n")
file(CHMOD "${WORK}/host-tools/procxy-gen" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
set(build "${WORK}/build-cmake")
step(${CMAKE_COMMAND} -S "${WORK}/project" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release ${prefix_args}
     "-DPROCXY_GEN_EXECUTABLE=${WORK}/host-tools/procxy-gen"
     "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
# The generate-only target makes the headers an IDE needs, and nothing else.
step(${CMAKE_COMMAND} --build "${build}" --target consumer_procxy_generate)
if(NOT EXISTS "${build}/procxy_generated/consumer/greeter.procxy.h" OR EXISTS "${build}/consumer")
  message(FATAL_ERROR "consumers: consumer_procxy_generate did not generate alone")
endif()
# Building the app builds its agent (procxy_add_agent FOR), which it finds
# next to itself when started from elsewhere.
step(${CMAKE_COMMAND} --build "${build}" -j2 --target consumer)
if(NOT EXISTS "${build}/greeter_agent")
  message(FATAL_ERROR "consumers: building consumer did not build greeter_agent beside it")
endif()
step(${CMAKE_COMMAND} --build "${build}" -j2)
execute_process(COMMAND "${build}/consumer" WORKING_DIRECTORY "${WORK}/host-tools" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "consumers: consumer failed (${result}) when started outside its build directory")
endif()
file(READ "${WORK}/procxy-gen.log" generator_log)
if(NOT generator_log MATCHES "-DCONSUMER_GENERATING=1")
  message(FATAL_ERROR "consumers: EXTRA_ARGS did not reach procxy-gen:\n${generator_log}")
endif()
# Nothing to rebuild when nothing changed: the generator reruns only on input change.
execute_process(COMMAND ${CMAKE_COMMAND} --build "${build}" -- -n -d explain
                OUTPUT_VARIABLE dry_run ERROR_VARIABLE explain)
if(dry_run MATCHES "procxy-gen")
  message(FATAL_ERROR "consumers: procxy-gen reran without any change:\n${dry_run}\n${explain}")
endif()

# The Makefile project, with pkg-config.
file(GLOB pc_files "${PREFIX}/lib/pkgconfig/procxy.pc" "${PREFIX}/lib/*/pkgconfig/procxy.pc")
if(NOT pc_files)
  message(FATAL_ERROR "consumers: no procxy.pc under ${PREFIX}/lib")
endif()
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
step(${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${pc_dir}" "PWD=${WORK}/examples/makefile"
     make -C "${WORK}/examples/makefile" "BUILD=${WORK}/build-make" "CXXFLAGS=-O2 ${CXX_FLAGS}"
     "LDFLAGS=${LINKER_FLAGS}" -j2)
step("${WORK}/build-make/calculator")
