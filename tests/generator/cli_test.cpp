// procxy-gen's argument parsing.

#include "cli.h"

#include <catch2/catch.hpp>

using procxy::cli::parse;

namespace {
procxy::cli::Options parse_args(std::vector<const char*> args) {
  args.insert(args.begin(), "procxy-gen");
  return parse(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST_CASE("options, headers and compiler flags are separated", "[cli]") {
  auto o = parse_args({"-o", "out", "--depfile=deps.d", "--check", "a.h", "b.h", "--", "-Iinc", "-DX=1"});
  CHECK(o.out_dir == "out");
  CHECK(o.depfile == "deps.d");
  CHECK(o.check_only);
  CHECK(o.headers == std::vector<std::string>{"a.h", "b.h"});
  CHECK(o.compiler_flags == std::vector<std::string>{"-Iinc", "-DX=1"});
  CHECK(parse_args({"-p", "build", "x.h"}).build_path == "build");
  CHECK(parse_args({"--dump-model", "x.h"}).dump_model);
  CHECK(parse_args({"--version"}).version);
  CHECK(parse_args({"-h"}).help);
}

TEST_CASE("bad usage is reported with the offending argument", "[cli]") {
  CHECK_THROWS_WITH(parse_args({"--bogus", "a.h"}), Catch::Contains("--bogus"));
  CHECK_THROWS_WITH(parse_args({"a.h", "-o"}), Catch::Contains("needs a value"));
  CHECK_THROWS_WITH(parse_args({"--check=yes", "a.h"}), Catch::Contains("takes no value"));
  CHECK_THROWS_WITH(parse_args({}), Catch::Contains("no header"));
}

TEST_CASE("--help lists every option", "[cli]") {
  std::string help = procxy::cli::help_text();
  for (const char* option :
       {"--out-dir", "--build-path", "--depfile", "--check", "--dump-model", "--version", "--help"}) {
    CHECK_THAT(help, Catch::Contains(option));
  }
}
