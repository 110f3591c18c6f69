#pragma once

// PROCXY_EXPORT marks what the runtime library exports. A shared
// libprocxy_runtime is built with hidden visibility, so that only the public
// API and what generated code calls are part of its ABI; everything else stays
// internal and free to change. (On ELF the attribute is harmless where the
// library is used, so one definition serves both sides.)
#define PROCXY_EXPORT __attribute__((visibility("default")))
