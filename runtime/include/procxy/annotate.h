#pragma once

// Annotations that mark what procxy-gen exposes. They expand to clang
// annotate attributes only while procxy-gen parses a header (it defines
// PROCXY_GENERATOR) and to nothing for an ordinary compiler, so an annotated
// header costs nothing and compiles warning-free everywhere.
//
//   class PROCXY_REMOTE Calculator { ... };      // expose every public method
//   PROCXY_QUERY std::string describe() const;  // no side effects
//   PROCXY_CACHE(500) int slow(int x) const;     // a query cached for 500 ms
//   PROCXY_EVENT void progress(int percent);     // child -> parent, body generated
//   PROCXY_HIDDEN void local_only();             // public but not exposed

#if defined(PROCXY_GENERATOR)
#define PROCXY_REMOTE __attribute__((annotate("procxy:remote")))
#define PROCXY_QUERY __attribute__((annotate("procxy:query")))
#define PROCXY_CACHE(ms) __attribute__((annotate("procxy:cache:" #ms)))
#define PROCXY_EVENT __attribute__((annotate("procxy:event")))
#define PROCXY_HIDDEN __attribute__((annotate("procxy:hidden")))
#else
#define PROCXY_REMOTE
#define PROCXY_QUERY
#define PROCXY_CACHE(ms)
#define PROCXY_EVENT
#define PROCXY_HIDDEN
#endif
