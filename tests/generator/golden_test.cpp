// procxy-gen as a program: generated files and diagnostics against checked-in
// goldens, exit codes, depfiles and compile_commands.json.
//
// PROCXY_UPDATE_GOLDENS=1 rewrites the goldens instead of comparing; review
// the diff like code.

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

struct Run {
  int exit_code;
  std::string output;  // stdout and stderr
};

Run run(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool updating() {
  const char* value = std::getenv("PROCXY_UPDATE_GOLDENS");
  return value && std::string(value) == "1";
}

// Compares `actual` with the golden file, or rewrites it when updating.
void check_golden(const fs::path& golden, const std::string& actual) {
  if (updating()) {
    fs::create_directories(golden.parent_path());
    std::ofstream(golden, std::ios::binary) << actual;
    return;
  }
  INFO("golden " << golden.string() << " (regenerate with PROCXY_UPDATE_GOLDENS=1)");
  REQUIRE(fs::exists(golden));
  CHECK(read(golden) == actual);
}

std::string gen() { return PROCXY_GEN_PATH; }

fs::path scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("procxy_golden_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A case is a directory with `input.h`, or with `header.txt` naming a header
// elsewhere in the tree (relative to the case), such as an example's.
fs::path case_header(const fs::path& dir) {
  if (fs::exists(dir / "input.h")) return dir / "input.h";
  std::string relative = read(dir / "header.txt");
  while (!relative.empty() && (relative.back() == '\n' || relative.back() == ' ')) relative.pop_back();
  return fs::canonical(dir / relative);
}

}  // namespace

TEST_CASE("generated files match the goldens and are deterministic", "[golden]") {
  fs::path cases = fs::path(PROCXY_GOLDEN_DIR) / "cases";
  for (const auto& entry : fs::directory_iterator(cases)) {
    const std::string name = entry.path().filename().string();
    DYNAMIC_SECTION("case " << name) {
      fs::path header = case_header(entry.path());
      std::string file = header.filename().string();
      std::string stem = header.stem().string();
      fs::path out = scratch(name);
      // Relative paths, so that banners and diagnostics do not depend on the checkout.
      std::string cd = "cd '" + header.parent_path().string() + "' && ";
      Run model = run(cd + gen() + " --dump-model " + file);
      REQUIRE(model.exit_code == 0);
      check_golden(entry.path() / "expected" / "model.txt", model.output);

      Run generated = run(cd + gen() + " -o '" + out.string() + "' " + file);
      INFO(generated.output);
      REQUIRE(generated.exit_code == 0);
      for (const char* ext : {"h", "cpp", "capnp"}) {
        std::string output = stem + ".procxy." + ext;
        check_golden(entry.path() / "expected" / output, read(out / output));
      }
      // A second run writes the same bytes.
      fs::path again = scratch(name + "_again");
      REQUIRE(run(cd + gen() + " -o '" + again.string() + "' " + file).exit_code == 0);
      for (const char* ext : {"h", "cpp", "capnp"}) {
        std::string output = stem + ".procxy." + ext;
        CHECK(read(out / output) == read(again / output));
      }
      fs::remove_all(out);
      fs::remove_all(again);
    }
  }
}

TEST_CASE("diagnostics match the goldens, all of them in one run", "[golden]") {
  fs::path errors = fs::path(PROCXY_GOLDEN_DIR) / "errors";
  for (const auto& entry : fs::directory_iterator(errors)) {
    if (entry.path().extension() != ".h") continue;
    const std::string name = entry.path().filename().string();
    DYNAMIC_SECTION("errors/" << name) {
      Run result = run("cd '" + errors.string() + "' && " + gen() + " --check " + name);
      CHECK(result.exit_code == 1);
      fs::path expected = entry.path();
      check_golden(expected.replace_extension(".expected"), result.output);
    }
  }
}

TEST_CASE("headers of one run that clash are diagnosed", "[golden]") {
  fs::path clash = fs::path(PROCXY_GOLDEN_DIR) / "errors" / "clash";
  Run result = run("cd '" + clash.string() + "' && " + gen() + " --check one/widget.h two/widget.h");
  CHECK(result.exit_code == 1);
  check_golden(fs::path(PROCXY_GOLDEN_DIR) / "errors" / "clash.expected", result.output);
}

TEST_CASE("exit codes: 0 success, 1 diagnostics, 2 usage", "[cli]") {
  CHECK(run(gen() + " --version").output == "procxy-gen 0.1.0\n");
  CHECK(run(gen() + " --help").exit_code == 0);
  CHECK(run(gen()).exit_code == 2);
  CHECK(run(gen() + " --no-such-option x.h").exit_code == 2);
  Run missing = run(gen() + " --check /nonexistent/header.h");
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.output, Catch::Contains("/nonexistent/header.h"));
}

TEST_CASE("--check writes nothing and --depfile lists every file read", "[cli]") {
  fs::path dir = scratch("depfile");
  std::ofstream(dir / "dep.h") << "#pragma once\nstruct Dep { int v; };\n";
  std::ofstream(dir / "thing.h") << "#include <procxy/annotate.h>\n#include \"dep.h\"\n"
                                    "class PROCXY_REMOTE Thing { public: Dep get(); };\n";
  std::string cd = "cd '" + dir.string() + "' && ";
  REQUIRE(run(cd + gen() + " --check -o out thing.h").exit_code == 0);
  CHECK_FALSE(fs::exists(dir / "out"));
  REQUIRE(run(cd + gen() + " -o out --depfile thing.d thing.h").exit_code == 0);
  CHECK(fs::exists(dir / "out" / "thing.procxy.h"));
  std::string depfile = read(dir / "thing.d");
  CHECK_THAT(depfile, Catch::StartsWith((dir / "out" / "thing.procxy.h").string() + ":"));
  CHECK_THAT(depfile, Catch::Contains("dep.h") && Catch::Contains("annotate.h"));
  fs::remove_all(dir);
}

TEST_CASE("-p reads the flags from compile_commands.json", "[cli]") {
  fs::path dir = scratch("compdb");
  std::ofstream(dir / "flagged.h") << "#include <procxy/annotate.h>\n"
                                      "class PROCXY_REMOTE Flagged { public: VALUE_TYPE get(); };\n";
  std::ofstream(dir / "compile_commands.json")
      << "[{\"directory\": \"" << dir.string() << "\", \"file\": \"" << (dir / "main.cpp").string()
      << "\", \"command\": \"c++ -DVALUE_TYPE=long -c main.cpp -o main.o\"}]\n";
  std::string cd = "cd '" + dir.string() + "' && ";
  CHECK(run(cd + gen() + " --check flagged.h").exit_code == 1);  // VALUE_TYPE unknown without -p
  Run with_db = run(cd + gen() + " --dump-model -p . flagged.h");
  CHECK(with_db.exit_code == 0);
  CHECK_THAT(with_db.output, Catch::Contains("int64{long} get()"));
  CHECK(run(cd + gen() + " -p /nonexistent flagged.h").exit_code == 1);
  fs::remove_all(dir);
}

TEST_CASE("standards newer than libclang's are parsed as its newest; a refused flag is named", "[cli]") {
  fs::path dir = scratch("standards");
  std::ofstream(dir / "std.h") << "#include <procxy/annotate.h>\n"
                                  "class PROCXY_REMOTE Std { public: int get(); };\n";
  std::string cd = "cd '" + dir.string() + "' && ";
  for (const char* flag : {"-std=c++23", "-std=gnu++23", "-std=c++26"}) {
    Run newer = run(cd + gen() + " --check std.h -- " + flag);
    INFO(newer.output);
    CHECK(newer.exit_code == 0);
    CHECK_THAT(newer.output, Catch::Contains(std::string("does not know ") + flag) && Catch::Contains("2b"));
  }
  Run bad = run(cd + gen() + " --check std.h -- -DOK=1 -std=c++99x -I .");
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.output, Catch::Contains("clang refuses the flag '-std=c++99x'"));
  fs::remove_all(dir);
}

TEST_CASE("-p takes the database itself, and paths in it are relative to the entry's directory", "[cli]") {
  fs::path dir = scratch("compdb_paths");
  fs::create_directories(dir / "project" / "include");
  fs::create_directories(dir / "project" / "other");
  fs::create_directories(dir / "project" / "build");
  std::ofstream(dir / "project" / "include" / "value.h") << "#pragma once\nusing Value = long;\n";
  std::ofstream(dir / "project" / "other" / "count.h") << "#pragma once\nusing Count = short;\n";
  std::ofstream(dir / "project" / "api.h")
      << "#include <procxy/annotate.h>\n#include \"value.h\"\n#include \"count.h\"\n"
         "class PROCXY_REMOTE Api { public: Value get(Count c); };\n";
  std::ofstream(dir / "project" / "build" / "compile_commands.json")
      << "[{\"directory\": \"" << (dir / "project").string()
      << "\", \"file\": \"src/main.cpp\", \"command\": \"c++ -Iinclude -I other -c src/main.cpp -o main.o\"}]\n";
  // Run from elsewhere: the relative -I paths must not be taken as ours.
  std::string cd = "cd '" + dir.string() + "' && ";
  CHECK(run(cd + gen() + " --check project/api.h").exit_code == 1);  // value.h and count.h not found
  Run with_file = run(cd + gen() + " --dump-model -p project/build/compile_commands.json project/api.h");
  CHECK(with_file.exit_code == 0);
  CHECK_THAT(with_file.output, Catch::Contains("get("));
  CHECK(run(cd + gen() + " --check -p project/build project/api.h").exit_code == 0);
  fs::remove_all(dir);
}

TEST_CASE("a header that does not exist is named as such", "[cli]") {
  Run missing = run(gen() + " --check /nonexistent/header.h");
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.output, Catch::Contains("cannot read '/nonexistent/header.h': no such file"));
}
