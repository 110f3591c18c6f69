#pragma once

#include <map>
#include <string>

#include "model/model.h"

namespace procxy::emit {

// The text of every output for one header, keyed by file name
// ("calculator.procxy.h", ".cpp", ".capnp"). Deterministic: the same model
// gives the same bytes.
std::map<std::string, std::string> render_module(const model::Module& module);

// Writes `files` into `out_dir` (creating it). Throws std::runtime_error with
// the path on failure.
void write_files(const std::string& out_dir, const std::map<std::string, std::string>& files);

// A Makefile-style depfile: the first output depends on every file the parse read.
std::string depfile_text(const std::string& target, const std::vector<std::string>& dependencies);

}  // namespace procxy::emit
