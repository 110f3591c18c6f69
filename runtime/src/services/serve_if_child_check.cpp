// The check that runs before main() in every program that can start
// children: if this process was started by procxy as a child but the program
// never calls serve_if_child(), running main() would start the application a
// second time; the check reports the mistake to the parent instead and exits.

#include <elf.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "process/spawn.h"
#include "transport/channel.h"
#include "wire/failure.h"

extern "C" {
// Defined only in serve_if_child.cpp, which the linker includes only in
// programs that call procxy::serve_if_child().
extern const char procxy_serve_if_child_linked __attribute__((weak));
}

namespace procxy::detail {

// Referenced by spawn() (services/start.cpp), so that a static link always
// takes this file into a program that can start children.
extern const bool kServeIfChildCheckLinked = true;

namespace {

// Whether `object` imports or exports procxy::serve_if_child(int, char**):
// its name, whole, in the object's dynamic string table.
bool names_serve_if_child(const dl_phdr_info& object) {
  static constexpr char kName[] = "\0_ZN6procxy14serve_if_childEiPPc";  // with the NULs around it
  for (int i = 0; i < object.dlpi_phnum; ++i) {
    if (object.dlpi_phdr[i].p_type != PT_DYNAMIC) continue;
    const auto* dynamic = reinterpret_cast<const ElfW(Dyn)*>(object.dlpi_addr + object.dlpi_phdr[i].p_vaddr);
    ElfW(Addr) strings = 0;
    std::size_t size = 0;
    for (; dynamic->d_tag != DT_NULL; ++dynamic) {
      if (dynamic->d_tag == DT_STRTAB) strings = dynamic->d_un.d_ptr;
      if (dynamic->d_tag == DT_STRSZ) size = dynamic->d_un.d_val;
    }
    // The loader relocates DT_STRTAB in place on most targets, not on all.
    if (strings != 0 && strings < object.dlpi_addr) strings += object.dlpi_addr;
    if (strings != 0 && size > 0) {
      return ::memmem(reinterpret_cast<const void*>(strings), size, kName, sizeof kName) != nullptr;
    }
  }
  return false;
}

bool contains(const dl_phdr_info& object, ElfW(Addr) address) {
  for (int i = 0; i < object.dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = object.dlpi_phdr[i];
    ElfW(Addr) start = object.dlpi_addr + segment.p_vaddr;
    if (segment.p_type == PT_LOAD && address >= start && address < start + segment.p_memsz) return true;
  }
  return false;
}

// Whether the program can reach serve_if_child(). Linked statically, the
// linker took serve_if_child.cpp, and the marker in it, into the program only
// if something calls it. With a shared libprocxy_runtime the marker is always
// there, in the library; then an object other than the library must import
// serve_if_child().
bool program_reaches_serve_if_child() {
  if (&procxy_serve_if_child_linked == nullptr) return false;
  struct Search {
    ElfW(Addr) marker;
    bool found = false;
  } search{reinterpret_cast<ElfW(Addr)>(&procxy_serve_if_child_linked)};
  ::dl_iterate_phdr(
      [](dl_phdr_info* object, std::size_t, void* data) {
        auto& search = *static_cast<Search*>(data);
        bool is_program = object->dlpi_name == nullptr || object->dlpi_name[0] == '\0';  // listed first
        search.found = contains(*object, search.marker) ? is_program : names_serve_if_child(*object);
        return search.found ? 1 : 0;
      },
      &search);
  return search.found;
}

// Runs before main() in every program that can spawn children. If this
// process was started by procxy but the program never calls serve_if_child(),
// running main() would start the application a second time: report the
// mistake to the parent instead and exit.
// (glibc hands constructors the program's arguments.)
__attribute__((constructor)) void refuse_child_without_serve_if_child(int argc, char** argv, char**) {
  const char* fd = std::getenv(kChildFdVariable);
  bool launched = argc >= 2 && argv && argv[1] && ::strcmp(argv[1], kLaunchedArgument) == 0;
  if ((!fd && !launched) || program_reaches_serve_if_child()) return;
  char exe[4096] = "this program";
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) exe[n] = '\0';
  capnp::MallocMessageBuilder message;
  encode_failure(message, wire::Failure::Kind::MISSING_SERVE_IF_CHILD,
                 "procxy: child " + std::to_string(getpid()) + ": '" + exe +
                     "' never calls procxy::serve_if_child(argc, argv), so it cannot serve as a child (its "
                     "main() was not run); call it first thing in main(), or set Options::executable to an "
                     "agent built with procxy_add_agent()");
  // A launched child's channel is its stdin and stdout.
  std::optional<Channel> channel;
  if (launched) {
    channel.emplace(Channel::Streams{STDIN_FILENO, STDOUT_FILENO});
  } else {
    channel.emplace(std::atoi(fd));
  }
  channel->write(FrameKind::kError, 0, 0, message.getSegmentsForOutput());
  _exit(127);
}

}  // namespace
}  // namespace procxy::detail
