#pragma once

// Corpus: SQLite's C interface (sqlite.org, sqlite3.h) as a C++ class, kept
// as close to the original as a class allows and annotated for procxy: most
// of it cannot cross, and each refusal names what to write instead.
// (sqlite3 and sqlite3_stmt are opaque handles; callbacks and out-pointers
// are the C idiom for results and events.)

#include <procxy/annotate.h>

#include <cstdint>

extern "C" {
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
typedef long long int sqlite_int64;
typedef sqlite_int64 sqlite3_int64;
}

namespace sq {

class PROCXY_REMOTE Database {
 public:
  explicit Database(const char* filename);
  int exec(const char* sql, int (*callback)(void*, int, char**, char**), void* arg, char** errmsg);
  int prepare_v2(const char* sql, int nByte, sqlite3_stmt** ppStmt, const char** pzTail);
  int bind_blob(sqlite3_stmt* stmt, int index, const void* data, int n, void (*destructor)(void*));
  int bind_int64(sqlite3_stmt* stmt, int index, sqlite3_int64 value);
  sqlite3_int64 last_insert_rowid() const;
  int changes() const;
  const char* errmsg() const;
  sqlite3* handle();
  int limit(int id, int newVal);
};

}  // namespace sq
