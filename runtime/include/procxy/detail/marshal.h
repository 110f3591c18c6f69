#pragma once

// Marshalling between C++ values and Cap'n Proto builders/readers, written
// once for every supported type. Generated code only chooses: it passes the
// builder's setter (scalars) or adopter (everything else) and the value, and
// reads back with get<T>(reader).
//
// Wire forms (docs/types.md): bool, integers and floats as themselves; enums
// as their underlying integer; durations and system_clock time points as
// their tick count; std::string, std::string_view and std::filesystem::path
// as Text; byte vectors as Data; vector, array, set, unordered_set as
// List(T); optional as a List(T) of zero or one element; map and
// unordered_map as a List of pairs; aggregates, pairs, tuples and variants as
// generated structs, written and read by generated write_fields()/read_fields()
// overloads found by argument-dependent lookup (read_fields returns the value,
// built at once, so that aggregates with const members can be read);
// std::monostate as Void. Strings and containers with their own traits,
// comparator, hash or allocator (std::pmr::string, std::set<int,
// std::greater<int>>) have the wire form of the plain ones.

#include <capnp/list.h>
#include <capnp/orphan.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "procxy/errors.h"

namespace procxy::detail {

template <class T, template <class...> class Template>
struct IsInstance : std::false_type {};
template <template <class...> class Template, class... Args>
struct IsInstance<Template<Args...>, Template> : std::true_type {};
template <class T, template <class...> class Template>
inline constexpr bool kIs = IsInstance<std::remove_cvref_t<T>, Template>::value;

template <class T>
struct IsArray : std::false_type {};
template <class T, std::size_t N>
struct IsArray<std::array<T, N>> : std::true_type {};

template <class T>
inline constexpr bool kIsString = false;
template <class Traits, class Allocator>
inline constexpr bool kIsString<std::basic_string<char, Traits, Allocator>> = true;

template <class T>
inline constexpr bool kIsBytes = false;
template <class Allocator>
inline constexpr bool kIsBytes<std::vector<std::byte, Allocator>> = true;
template <class Allocator>
inline constexpr bool kIsBytes<std::vector<unsigned char, Allocator>> = true;

template <class T>
struct IsDuration : std::false_type {};
template <class Rep, class Period>
struct IsDuration<std::chrono::duration<Rep, Period>> : std::true_type {};

template <class T>
struct IsTimePoint : std::false_type {};
template <class Duration>
struct IsTimePoint<std::chrono::time_point<std::chrono::system_clock, Duration>> : std::true_type {};

template <class T>
auto to_wire(const T& value) {
  if constexpr (std::is_enum_v<T>) {
    return static_cast<std::underlying_type_t<T>>(value);
  } else if constexpr (IsDuration<T>::value) {
    return value.count();
  } else if constexpr (IsTimePoint<T>::value) {
    return value.time_since_epoch().count();
  } else if constexpr (std::is_same_v<T, std::monostate>) {
    return capnp::VOID;
  } else {
    static_assert(std::is_arithmetic_v<T>, "procxy: not a scalar type");
    return value;
  }
}

// Cap'n Proto holds at most this many bytes in one blob and elements in one list.
inline constexpr std::size_t kMaxWireElements = (std::size_t{1} << 29) - 1;

// Throws the Error for a `what` ("string", "list") of `size` elements, more
// than kMaxWireElements.
[[noreturn]] PROCXY_EXPORT void wire_size_exceeded(std::size_t size, const char* what);

inline void check_wire_size(std::size_t size, const char* what) {
  if (size > kMaxWireElements) wire_size_exceeded(size, what);
}

template <class W>
struct ListElement;
template <class E>
struct ListElement<capnp::List<E>> {
  using type = E;
};

template <class W, class T>
capnp::Orphan<W> to_orphan(capnp::Orphanage orphanage, const T& value);

// Writes element `i` of a list whose elements are of wire type E.
template <class E, class T>
void write_element(typename capnp::List<E>::Builder list, unsigned i, const T& value, capnp::Orphanage orphanage) {
  constexpr capnp::Kind kind = capnp::kind<E>();
  if constexpr (kind == capnp::Kind::PRIMITIVE) {
    list.set(i, to_wire(value));
  } else if constexpr (kind == capnp::Kind::STRUCT) {
    write_fields(list[i], value);
  } else {
    list.adopt(i, to_orphan<E>(orphanage, value));
  }
}

// Builds the wire form W of `value` as an orphan in the message of `orphanage`;
// adopting it into its field costs no copy.
template <class W, class T>
capnp::Orphan<W> to_orphan(capnp::Orphanage orphanage, const T& value) {
  constexpr capnp::Kind kind = capnp::kind<W>();
  if constexpr (std::is_same_v<W, capnp::Text>) {
    if constexpr (std::is_same_v<T, std::filesystem::path>) {
      return to_orphan<W>(orphanage, value.native());
    } else {
      check_wire_size(value.size(), "string");
      return orphanage.newOrphanCopy(capnp::Text::Reader(value.data(), value.size()));
    }
  } else if constexpr (std::is_same_v<W, capnp::Data>) {
    check_wire_size(value.size(), "byte vector");
    return orphanage.newOrphanCopy(
        capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(value.data()), value.size()));
  } else if constexpr (kind == capnp::Kind::LIST) {
    if constexpr (kIs<T, std::optional>) {
      using E = typename ListElement<W>::type;
      auto orphan = orphanage.newOrphan<W>(value ? 1 : 0);
      if (value) write_element<E>(orphan.get(), 0, *value, orphanage);
      return orphan;
    } else {
      using E = typename ListElement<W>::type;
      check_wire_size(value.size(), "list");
      auto orphan = orphanage.newOrphan<W>(static_cast<unsigned>(value.size()));
      auto list = orphan.get();
      unsigned i = 0;
      for (const auto& element : value) write_element<E>(list, i++, element, orphanage);
      return orphan;
    }
  } else {
    static_assert(kind == capnp::Kind::STRUCT, "procxy: no wire form for this type");
    auto orphan = orphanage.newOrphan<W>();
    write_fields(orphan.get(), value);
    return orphan;
  }
}

// put(builder, &Builder::setX, value) for scalar fields.
template <class B, class V, class T>
void put(B& builder, void (B::*set)(V), const T& value) {
  (builder.*set)(to_wire(value));
}

// put(builder, &Builder::adoptX, value) for pointer fields.
template <class B, class W, class T>
void put(B& builder, void (B::*adopt)(capnp::Orphan<W>&&), const T& value) {
  (builder.*adopt)(to_orphan<W>(capnp::Orphanage::getForMessageContaining(builder), value));
}

// get<T>(reader.getX()): the C++ value of a field. Throws ProtocolError for a
// value that cannot be one (an array of the wrong length).
template <class T, class R>
T get(R wire) {
  if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>) {
    return static_cast<T>(wire);
  } else if constexpr (std::is_same_v<T, std::monostate>) {
    return T{};
  } else if constexpr (IsDuration<T>::value) {
    return T(static_cast<typename T::rep>(wire));
  } else if constexpr (IsTimePoint<T>::value) {
    return T(typename T::duration(static_cast<typename T::rep>(wire)));
  } else if constexpr (kIsString<T>) {
    return T(wire.begin(), wire.size());
  } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
    return T(std::string(wire.begin(), wire.size()));
  } else if constexpr (kIsBytes<T>) {
    const auto* bytes = reinterpret_cast<const typename T::value_type*>(wire.begin());
    return T(bytes, bytes + wire.size());
  } else if constexpr (kIs<T, std::vector>) {
    T out;
    out.reserve(wire.size());
    for (auto element : wire) out.push_back(get<typename T::value_type>(element));
    return out;
  } else if constexpr (IsArray<T>::value) {
    constexpr std::size_t size = std::tuple_size_v<T>;
    if (wire.size() != size) {
      throw ProtocolError("procxy: received " + std::to_string(wire.size()) + " elements for a std::array of " +
                          std::to_string(size) + "; both sides must be built from the same header");
    }
    // Built at once, not assigned: the elements may have const members.
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return T{get<typename T::value_type>(wire[static_cast<unsigned>(I)])...};
    }
    (std::make_index_sequence<size>());
  } else if constexpr (kIs<T, std::set> || kIs<T, std::unordered_set>) {
    T out;
    for (auto element : wire) out.insert(get<typename T::value_type>(element));
    return out;
  } else if constexpr (kIs<T, std::optional>) {
    if (wire.size() == 0) return std::nullopt;
    return get<typename T::value_type>(wire[0]);
  } else if constexpr (kIs<T, std::map> || kIs<T, std::unordered_map>) {
    T out;
    for (auto element : wire) out.insert(read_fields(element));
    return out;
  } else {
    return read_fields(wire);
  }
}

}  // namespace procxy::detail
