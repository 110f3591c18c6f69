#pragma once

// Where procxy-gen finds what it passes to libclang, looked up at run time so
// that an installed prefix can be moved: procxy's own headers relative to the
// executable, clang's resource directory relative to the libclang loaded.

#include <filesystem>
#include <optional>
#include <string>

namespace procxy::parse {

// The directory holding procxy/annotate.h: kIncludeFromBin (the install's
// bin -> include path, "../include") from the directory of the running
// executable. The build tree mirrors that layout. Nullopt when absent.
std::optional<std::filesystem::path> runtime_include_dir();

// Clang's resource directory (the one holding include/stddef.h) for the
// libclang this process runs with. Throws std::runtime_error naming the
// places looked in when there is none.
std::filesystem::path clang_resource_dir();

}  // namespace procxy::parse
