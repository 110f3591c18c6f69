#pragma once

// Validation of a received frame's Cap'n Proto message before anything reads
// it: every pointer in bounds, nesting within Cap'n Proto's limit, and no
// more words traversed than the message holds (plus a little for lists of
// empty structs), so a small malicious message cannot make the reader
// allocate much. Generated decoders then read a message known to be sound.

#include <capnp/message.h>

#include "transport/channel.h"

namespace procxy::detail {

// The limits every reader of a received message uses: a message of `words`
// words may traverse that many, plus a little for lists of empty structs.
capnp::ReaderOptions reader_options(std::size_t words);

// Throws ProtocolError naming `where` ("parent", "child") when the payload of
// `frame` is not a sound message, or is missing where its kind needs one.
void validate_message(const Frame& frame, const char* where);

}  // namespace procxy::detail
