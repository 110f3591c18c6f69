#pragma once

// Corpus: zlib's interface (madler/zlib, zlib.h, zconf.h), in C's idiom of
// typedef'd unnamed structs and enums, wrapped by a C++ class for procxy.
// What changed, and why:
//  * z_stream holds pointers into the caller's buffers (next_in, next_out)
//    and allocator callbacks: it cannot cross, so the wrapper takes and
//    returns byte vectors, and reports the stream's counters in z_stats.
//  * The Z_* flush and strategy #defines are typedef'd unnamed enums here.
// Kept as in the original: the typedef names uLong, uInt and Bytef, and the
// names crc32, adler32 and compressBound.

#include <procxy/annotate.h>

#include <string>
#include <vector>

extern "C" {

typedef unsigned char Byte;
typedef unsigned int uInt;
typedef unsigned long uLong;
typedef Byte Bytef;

typedef enum { Z_NO_FLUSH = 0, Z_PARTIAL_FLUSH = 1, Z_SYNC_FLUSH = 2, Z_FULL_FLUSH = 3, Z_FINISH = 4 } z_flush;
typedef enum { Z_DEFAULT_STRATEGY = 0, Z_FILTERED = 1, Z_HUFFMAN_ONLY = 2, Z_RLE = 3, Z_FIXED = 4 } z_strategy;

typedef struct {
  uLong total_in;  /* total number of input bytes read so far */
  uLong total_out; /* total number of bytes output so far */
  int data_type;   /* best guess about the data type: binary or text */
  uLong adler;     /* Adler-32 or CRC-32 value of the uncompressed data */
} z_stats;

}  // extern "C"

namespace zwrap {

class PROCXY_REMOTE Deflater {
 public:
  // level: 0..9, or -1 for the default (Z_DEFAULT_COMPRESSION).
  explicit Deflater(int level = -1, z_strategy strategy = Z_DEFAULT_STRATEGY);

  // Compresses `input`; Z_FINISH ends the stream.
  std::vector<Bytef> deflate(const std::vector<Bytef>& input, z_flush flush = Z_NO_FLUSH);
  z_stats stats() const;
  void reset();

  // An upper bound on the compressed size of sourceLen bytes.
  PROCXY_QUERY uLong compressBound(uLong sourceLen) const;
  PROCXY_QUERY uLong crc32(uLong crc, const std::vector<Bytef>& buf) const;
  PROCXY_QUERY uLong adler32(uLong adler, const std::vector<Bytef>& buf) const;
  PROCXY_QUERY std::string version() const;
};

}  // namespace zwrap
