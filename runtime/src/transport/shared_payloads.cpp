#include "transport/shared_payloads.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <atomic>
#include <bit>
#include <cstring>
#include <string>

#include "procxy/errors.h"
#include "transport/payload_pool.h"

namespace procxy::detail {
namespace {

// Larger payloads go through the socket: a buffer per slot this large is as
// much memory as a connection should keep for its largest messages.
constexpr std::size_t kSharedMaxBytes = 16 * 1024 * 1024;
// A buffer is a power-of-two data area, then one page whose first word says
// whether the receiver holds the buffer.
constexpr std::size_t kTrailerBytes = 4096;

std::atomic_ref<std::uint32_t> held_word(char* memory, std::size_t capacity) {
  return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(memory + capacity));
}

[[noreturn]] void invalid(const char* where, const std::string& why) {
  throw ProtocolError(std::string("procxy: ") + where + ": received a payload in shared memory that " + why +
                      "; the connection is closed (is the other side a procxy program of the same version?)");
}

}  // namespace

SharedPayloadSender::~SharedPayloadSender() {
  for (const Slot& slot : slots_) {
    if (slot.memory) ::munmap(slot.memory, slot.size);
  }
}

std::size_t SharedPayloadSender::Slot::capacity() const { return size - kTrailerBytes; }

std::optional<SharedPayloadSender::Placement> SharedPayloadSender::place(std::size_t bytes) {
  if (bytes < kSharedMinBytes || bytes > kSharedMaxBytes) return std::nullopt;
  // The smallest free buffer that fits; else an unused slot, or a free buffer
  // too small, for a new one.
  Slot* fits = nullptr;
  Slot* replaceable = nullptr;
  for (Slot& slot : slots_) {
    if (!slot.memory) {
      if (!replaceable || replaceable->memory) replaceable = &slot;
      continue;
    }
    if (held_word(slot.memory, slot.capacity()).load(std::memory_order_acquire) != 0) continue;
    if (slot.capacity() >= bytes) {
      if (!fits || slot.capacity() < fits->capacity()) fits = &slot;
    } else if (!replaceable) {
      replaceable = &slot;
    }
  }

  int fd = -1;
  Slot* slot = fits;
  if (!slot) {
    if (!replaceable) return std::nullopt;
    // A buffer the peer cannot shrink or grow under its mapping. Any failure
    // here only means the socket carries this payload.
    std::size_t size = std::bit_ceil(bytes) + kTrailerBytes;
    fd = ::memfd_create("procxy-payload", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return std::nullopt;
    void* memory = MAP_FAILED;
    if (::ftruncate(fd, static_cast<off_t>(size)) == 0 &&
        ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0) {
      memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    if (memory == MAP_FAILED) {
      ::close(fd);
      return std::nullopt;
    }
    slot = replaceable;
    if (slot->memory) ::munmap(slot->memory, slot->size);
    *slot = {static_cast<char*>(memory), size};
  }
  held_word(slot->memory, slot->capacity()).store(1, std::memory_order_relaxed);
  SharedDescriptor descriptor;
  descriptor.slot = static_cast<std::uint32_t>(slot - slots_.data());
  descriptor.bytes = static_cast<std::uint32_t>(bytes);
  descriptor.fresh = fd >= 0 ? 1 : 0;
  return Placement{descriptor, slot->memory, fd};
}

void copy_to_shared(char* out, const iovec* pieces, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const auto* in = static_cast<const char*>(pieces[i].iov_base);
    std::size_t size = pieces[i].iov_len;
#if defined(__x86_64__)
    // 8-byte stores up to a 16-byte boundary and for the tail, 64 bytes a
    // round in between (SSE2: every x86-64 has it).
    auto word = [&] {
      long long value;
      std::memcpy(&value, in, sizeof value);
      _mm_stream_si64(reinterpret_cast<long long*>(out), value);
      in += 8, out += 8, size -= 8;
    };
    if (size >= 8 && reinterpret_cast<std::uintptr_t>(out) % 16 != 0) word();
    for (; size >= 64; in += 64, out += 64, size -= 64) {
      auto* to = reinterpret_cast<__m128i*>(out);
      const auto* from = reinterpret_cast<const __m128i*>(in);
      __m128i a = _mm_loadu_si128(from), b = _mm_loadu_si128(from + 1);
      __m128i c = _mm_loadu_si128(from + 2), d = _mm_loadu_si128(from + 3);
      _mm_stream_si128(to, a);
      _mm_stream_si128(to + 1, b);
      _mm_stream_si128(to + 2, c);
      _mm_stream_si128(to + 3, d);
    }
    while (size >= 8) word();
#else
    std::memcpy(out, in, size);
    out += size;
#endif
  }
#if defined(__x86_64__)
  _mm_sfence();  // the stores are visible before the descriptor is sent
#endif
}

SharedPayloadReceiver::~SharedPayloadReceiver() {
  for (int fd : fds_) ::close(fd);
  for (const Mapping& mapping : mappings_) {
    if (mapping.memory) ::munmap(mapping.memory, mapping.size);
  }
}

void SharedPayloadReceiver::add_fd(int fd) {
  if (fds_.size() >= kSharedSlots) {
    ::close(fd);
    fds_dropped_ = true;
    return;
  }
  fds_.push_back(fd);
}

kj::Array<capnp::word> SharedPayloadReceiver::take(const SharedDescriptor& descriptor, const char* where) {
  if (descriptor.slot >= kSharedSlots || descriptor.fresh > 1 || descriptor.reserved != 0) {
    invalid(where, "has an invalid descriptor");
  }
  if (descriptor.bytes == 0 || descriptor.bytes % sizeof(capnp::word) != 0) {
    invalid(where, "has size " + std::to_string(descriptor.bytes) + ", not a positive multiple of 8");
  }
  Mapping& mapping = mappings_[descriptor.slot];
  if (descriptor.fresh) {
    if (fds_dropped_) invalid(where, "follows more file descriptors than buffers they could be for");
    if (fds_.empty()) invalid(where, "names a new buffer whose file descriptor did not arrive");
    int fd = fds_.front();
    fds_.pop_front();
    struct stat status {};
    int seals = ::fcntl(fd, F_GET_SEALS);
    bool sealed = seals >= 0 && (seals & F_SEAL_SHRINK) && (seals & F_SEAL_SEAL);
    bool sized = ::fstat(fd, &status) == 0 && status.st_size > static_cast<off_t>(kTrailerBytes) &&
                 status.st_size <= static_cast<off_t>(kSharedMaxBytes + kTrailerBytes);
    if (!sealed || !sized) {
      ::close(fd);
      invalid(where, "is in a buffer not sealed against shrinking, or of an invalid size");
    }
    auto size = static_cast<std::size_t>(status.st_size);
    void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int error = errno;
    ::close(fd);
    if (memory == MAP_FAILED) invalid(where, std::string("could not be mapped: ") + std::strerror(error));
    if (mapping.memory) ::munmap(mapping.memory, mapping.size);
    mapping = {static_cast<char*>(memory), size};
  }
  if (!mapping.memory) invalid(where, "names a buffer that was never sent");
  std::size_t capacity = mapping.size - kTrailerBytes;
  if (descriptor.bytes > capacity) {
    invalid(where, "is larger (" + std::to_string(descriptor.bytes) + " bytes) than its buffer");
  }
  // A private copy, and the buffer is the peer's again at once: the peer can
  // write into a buffer it lent whenever it likes, and Cap'n Proto's reader
  // reads a pointer again after checking it, so a message it decodes must be
  // one nobody else can change.
  kj::Array<capnp::word> payload = take_payload(descriptor.bytes / sizeof(capnp::word));
  std::memcpy(payload.begin(), mapping.memory, descriptor.bytes);
  held_word(mapping.memory, capacity).store(0, std::memory_order_release);
  return payload;
}

}  // namespace procxy::detail
