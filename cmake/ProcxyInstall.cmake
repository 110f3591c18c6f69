# What `cmake --install` puts in a prefix, and the Debian packages `cpack`
# makes of it. Every installed file finds the others relative to itself, so a
# prefix can be moved. Three components, one package each:
#   runtime    libprocxy_runtime.so.*                      (shared builds only)
#   dev        headers, the static or .so library link, CMake package,
#              procxy.pc, the agent's main()
#   generator  procxy-gen
include(CMakePackageConfigHelpers)

set(_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/procxy)
install(TARGETS procxy_runtime EXPORT procxyTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS procxy-gen EXPORT procxyTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT generator)
install(DIRECTORY runtime/include/procxy DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(FILES runtime/src/child/agent_main.cpp DESTINATION ${CMAKE_INSTALL_DATADIR}/procxy COMPONENT dev)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT dev)
install(EXPORT procxyTargets NAMESPACE procxy:: DESTINATION ${_cmake_dir} COMPONENT dev)

configure_package_config_file(cmake/procxyConfig.cmake.in ${PROJECT_BINARY_DIR}/procxyConfig.cmake
                              INSTALL_DESTINATION ${_cmake_dir} PATH_VARS CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/procxyConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/procxyConfig.cmake ${PROJECT_BINARY_DIR}/procxyConfigVersion.cmake
              cmake/ProcxyGenerate.cmake cmake/ProcxyCapnProto.cmake
        DESTINATION ${_cmake_dir} COMPONENT dev)

# procxy.pc, for builds without CMake. Its prefix is found from the file's own
# place (pkg-config's ${pcfiledir}), so that a moved prefix works.
set(_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH PROCXY_PC_PREFIX_FROM_PCFILEDIR /${_pc_dir} /)
string(REGEX REPLACE "/$" "" PROCXY_PC_PREFIX_FROM_PCFILEDIR "${PROCXY_PC_PREFIX_FROM_PCFILEDIR}")
set(_pc_private "-ldw -lseccomp")
if(CMAKE_DL_LIBS)
  string(APPEND _pc_private " -l${CMAKE_DL_LIBS}")
endif()
if(BUILD_SHARED_LIBS)
  set(PROCXY_PC_LIBS "")
  set(PROCXY_PC_LIBS_PRIVATE "${_pc_private}")
else()
  # A static library's own dependencies are linked by its users.
  set(PROCXY_PC_LIBS "${_pc_private}")
  set(PROCXY_PC_LIBS_PRIVATE "")
endif()
configure_file(cmake/procxy.pc.in ${PROJECT_BINARY_DIR}/procxy.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/procxy.pc DESTINATION ${_pc_dir} COMPONENT dev)

# cpack -G DEB: libprocxy<soversion> (shared builds), libprocxy-dev, procxy-gen.
set(CPACK_PACKAGE_NAME procxy)
set(CPACK_PACKAGE_VENDOR "the procxy authors")
set(CPACK_PACKAGE_CONTACT "the procxy authors <procxy@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # dpkg-shlibdeps names the libraries' packages
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(_so_version ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set(_exact "(= ${PROJECT_VERSION})")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libprocxy${_so_version})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "procxy runtime library\n The shared library that programs using procxy proxies link.")

set(CPACK_DEBIAN_GENERATOR_PACKAGE_NAME procxy-gen)
set(CPACK_DEBIAN_GENERATOR_PACKAGE_SECTION devel)
# procxy-gen parses headers with libclang, which needs clang's own headers and
# a C++ standard library's.
set(CPACK_DEBIAN_GENERATOR_PACKAGE_DEPENDS "libclang-common-14-dev, libstdc++-12-dev | libstdc++-dev")
set(CPACK_COMPONENT_GENERATOR_DESCRIPTION
    "procxy code generator\n procxy-gen reads annotated C++ headers and writes proxies, stubs and Cap'n Proto schemas.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libprocxy-dev)
set(_dev_depends "procxy-gen ${_exact}, libcapnp-dev, capnproto, libdw-dev, libseccomp-dev")
if(BUILD_SHARED_LIBS)
  string(APPEND _dev_depends ", libprocxy${_so_version} ${_exact}")
endif()
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${_dev_depends}")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "procxy development files\n Headers, the CMake package (find_package(procxy), procxy_generate()) and procxy.pc.")

set(CPACK_COMPONENTS_ALL dev generator)
if(BUILD_SHARED_LIBS)
  list(APPEND CPACK_COMPONENTS_ALL runtime)
endif()
include(CPack)
