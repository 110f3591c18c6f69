#pragma once

// Corpus: the public interface of LevelDB's database (google/leveldb,
// include/leveldb/db.h, options.h, status.h), adapted so that its types can
// cross and annotated for procxy. What changed, and why:
//  * leveldb::DB is abstract (every method pure virtual); the remote class is
//    a concrete implementation of it, as users write (MemoryDB), which
//    inherits the public methods.
//  * Slice (private state) -> std::string_view parameters and std::string
//    results; Status (private state) -> an aggregate with a code and a message.
//  * Out-parameters (std::string* value, uint64_t* sizes) -> results.
//  * Iterator*, Snapshot* and the static Open(..., DB**) factory have no
//    counterpart: a proxy is the handle.
// Kept as in the original: the deleted copy constructor and assignment (the
// rule of five needs no PROCXY_HIDDEN), the virtual destructor, the default
// member initializers of the option structs, the uint64_t spelling.

#include <procxy/annotate.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leveldb {

struct Status {
  enum Code { kOk = 0, kNotFound = 1, kCorruption = 2, kNotSupported = 3, kInvalidArgument = 4, kIOError = 5 };
  Code code = kOk;
  std::string message;
};

// Options that control read operations.
struct ReadOptions {
  // If true, all data read from underlying storage will be verified against
  // corresponding checksums.
  bool verify_checksums = false;
  // Should the data read for this iteration be cached in memory?
  bool fill_cache = true;
};

// Options that control write operations.
struct WriteOptions {
  // If true, the write will be flushed from the operating system buffer cache
  // before the write is considered complete.
  bool sync = false;
};

// A range of keys.
struct Range {
  std::string start;  // Included in the range
  std::string limit;  // Not included in the range
};

// A DB is a persistent ordered map from keys to values.
class DB {
 public:
  DB() = default;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;
  virtual ~DB();

  // Set the database entry for "key" to "value".  Returns OK on success,
  // and a non-OK status on error.
  virtual Status Put(const WriteOptions& options, std::string_view key, std::string_view value) = 0;

  // Remove the database entry (if any) for "key".  Returns OK on
  // success, and a non-OK status on error.  It is not an error if "key"
  // did not exist in the database.
  virtual Status Delete(const WriteOptions& options, std::string_view key) = 0;

  // If the database contains an entry for "key" return its value; nothing
  // if there is no entry.
  virtual std::optional<std::string> Get(const ReadOptions& options, std::string_view key) = 0;

  // DB implementations can export properties about their state via this
  // method.  If "property" is a valid property understood by this DB
  // implementation, returns its current value.
  virtual std::optional<std::string> GetProperty(std::string_view property) = 0;

  // For each i in [0,n-1], the approximate file system space used by keys
  // in "[range[i].start .. range[i].limit)".
  virtual std::vector<std::uint64_t> GetApproximateSizes(const std::vector<Range>& ranges) = 0;

  // Compact the underlying storage for the key range [*begin,*end].
  virtual void CompactRange(const std::optional<std::string>& begin, const std::optional<std::string>& end) = 0;
};

class PROCXY_REMOTE MemoryDB final : public DB {
 public:
  MemoryDB();
  explicit MemoryDB(const std::string& name);
  ~MemoryDB() override;

  Status Put(const WriteOptions& options, std::string_view key, std::string_view value) override;
  Status Delete(const WriteOptions& options, std::string_view key) override;
  std::optional<std::string> Get(const ReadOptions& options, std::string_view key) override;
  std::optional<std::string> GetProperty(std::string_view property) override;
  std::vector<std::uint64_t> GetApproximateSizes(const std::vector<Range>& ranges) override;
  void CompactRange(const std::optional<std::string>& begin, const std::optional<std::string>& end) override;

  // Not in leveldb: how many entries there are.
  PROCXY_QUERY std::uint64_t size() const;
};

}  // namespace leveldb
