#pragma once

// Corpus: the client of cpp-httplib (yhirose/cpp-httplib, httplib.h),
// adapted and annotated for procxy. What changed, and why:
//  * Headers and Params are std::multimap<std::string, std::string,
//    detail::ci>: a multimap has no wire form, so they are std::map with the
//    same case-insensitive comparator from namespace detail (a namespace
//    named like procxy's own; generated code spells it ::httplib::detail::ci).
//  * Result (a unique_ptr<Response> and an error) -> std::optional<Response>
//    beside an Error enum, in a struct.
//  * Callbacks (ContentReceiver, Progress) -> a PROCXY_EVENT.
//  * The duration templates set_connection_timeout(std::chrono::duration<..>)
//    are member templates: PROCXY_HIDDEN (the time_t overloads remain).
// Kept as in the original: the move-only rule of five, time_t, the
// overloads with default arguments, std::string parameters.

#include <procxy/annotate.h>

#include <chrono>
#include <cctype>
#include <ctime>
#include <map>
#include <optional>
#include <string>

namespace httplib {

namespace detail {

struct ci {
  bool operator()(const std::string& s1, const std::string& s2) const {
    for (size_t i = 0; i < s1.size() && i < s2.size(); ++i) {
      int a = std::tolower(static_cast<unsigned char>(s1[i])), b = std::tolower(static_cast<unsigned char>(s2[i]));
      if (a != b) return a < b;
    }
    return s1.size() < s2.size();
  }
};

}  // namespace detail

using Headers = std::map<std::string, std::string, detail::ci>;
using Params = std::map<std::string, std::string>;

enum class Error { Success = 0, Unknown, Connection, BindIPAddress, Read, Write, ExceedRedirectCount, Canceled };

struct Response {
  std::string version;
  int status = -1;
  std::string reason;
  Headers headers;
  std::string body;
  std::string location;  // Redirect location
};

struct Result {
  std::optional<Response> response;
  Error error = Error::Unknown;
};

class PROCXY_REMOTE Client {
 public:
  explicit Client(const std::string& scheme_host_port);
  explicit Client(const std::string& host, int port);

  Client(Client&&) = default;
  Client& operator=(Client&&) = default;
  ~Client();

  bool is_valid() const;

  Result Get(const std::string& path);
  Result Get(const std::string& path, const Headers& headers);
  Result Get(const std::string& path, const Params& params, const Headers& headers);

  Result Head(const std::string& path);
  Result Head(const std::string& path, const Headers& headers);

  Result Post(const std::string& path, const std::string& body, const std::string& content_type);
  Result Post(const std::string& path, const Headers& headers, const std::string& body,
              const std::string& content_type);
  Result Post(const std::string& path, const Params& params);

  Result Delete(const std::string& path, const Headers& headers = {});

  void stop();

  void set_default_headers(Headers headers);
  void set_connection_timeout(time_t sec, time_t usec = 0);
  template <class Rep, class Period>
  PROCXY_HIDDEN void set_connection_timeout(const std::chrono::duration<Rep, Period>& duration);
  void set_read_timeout(time_t sec, time_t usec = 0);
  void set_basic_auth(const std::string& username, const std::string& password);
  void set_keep_alive(bool on);
  void set_follow_location(bool on);
  [[deprecated("use set_follow_location")]] void follow_location(bool on);

  // Called while a body arrives (the original's Progress callback).
  PROCXY_EVENT void progress(std::uint64_t current, std::uint64_t total);
};

}  // namespace httplib
