#include "parent/requests.h"

#include <algorithm>

namespace procxy::detail {

std::uint64_t Requests::add(Request request, bool coalesce) {
  std::uint64_t id = ++next_id_;
  coalesce = coalesce && !request.key.empty();
  if (coalesce) in_flight_.emplace(request.key, id);
  request.async_callers = request.first.async() ? 1 : 0;
  for (const Caller& caller : request.joined) request.async_callers += caller.async() ? 1 : 0;
  async_callers_ += request.async_callers;
  pending_.emplace(id, Entry{std::move(request), coalesce});
  return id;
}

std::optional<std::uint64_t> Requests::join(const std::string& key, Caller& caller) {
  if (key.empty()) return std::nullopt;
  auto found = in_flight_.find(key);
  if (found == in_flight_.end()) return std::nullopt;
  Request& request = pending_.at(found->second).request;
  if (caller.async()) {
    ++request.async_callers;
    ++async_callers_;
  }
  request.joined.push_back(std::move(caller));
  return found->second;
}

Request* Requests::find(std::uint64_t id) {
  auto it = pending_.find(id);
  return it == pending_.end() ? nullptr : &it->second.request;
}

Request Requests::take(std::unordered_map<std::uint64_t, Entry>::iterator it) {
  Entry entry = std::move(it->second);
  pending_.erase(it);
  if (entry.coalesced) in_flight_.erase(entry.request.key);
  async_callers_ -= entry.request.async_callers;
  return std::move(entry.request);
}

std::optional<Request> Requests::take(std::uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  return take(it);
}

std::vector<Request> Requests::take_all() {
  std::vector<Request> all;
  all.reserve(pending_.size());
  for (auto& [id, entry] : pending_) all.push_back(std::move(entry.request));
  pending_.clear();
  in_flight_.clear();
  async_callers_ = 0;
  return all;
}

Caller* Requests::find_caller(std::uint64_t id, const std::function<bool(const Caller&)>& matches) {
  Request* request = find(id);
  if (!request) return nullptr;
  if (matches(request->first)) return &request->first;
  auto found = std::find_if(request->joined.begin(), request->joined.end(), matches);
  return found == request->joined.end() ? nullptr : &*found;
}

std::optional<Requests::Left> Requests::leave(std::uint64_t id, const std::function<bool(const Caller&)>& matches) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  Caller* found = find_caller(id, matches);
  if (!found) return std::nullopt;
  Request& request = it->second.request;
  bool async = found->async();
  Left left{std::move(*found), std::nullopt};
  *found = Caller();
  if (async) {
    --request.async_callers;
    --async_callers_;
  }
  if (request.joined.empty()) {
    left.abandoned = take(it);  // it was the last: nobody waits for the request any more
  } else {
    // The last joined caller fills the hole, so `first` stays a live caller.
    if (found != &request.joined.back()) *found = std::move(request.joined.back());
    request.joined.pop_back();
  }
  return left;
}

std::vector<std::uint64_t> Requests::expired_async(Clock::time_point now) const {
  std::vector<std::uint64_t> expired;
  if (async_callers_ == 0) return expired;
  for (const auto& [id, entry] : pending_) {
    if (entry.request.deadline <= now && entry.request.async_callers > 0) expired.push_back(id);
  }
  return expired;
}

Requests::Clock::time_point Requests::next_async_deadline() const {
  Clock::time_point next = Clock::time_point::max();
  if (async_callers_ == 0) return next;
  for (const auto& [id, entry] : pending_) {
    if (entry.request.async_callers > 0) next = std::min(next, entry.request.deadline);
  }
  return next;
}

}  // namespace procxy::detail
