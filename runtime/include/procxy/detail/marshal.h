#pragma once

// Marshalling between C++ values and Cap'n Proto builders/readers, written
// once for every supported type. Generated code only chooses: it passes the
// builder's setter (scalars) or adopter (everything else) and the value, and
// reads back with get<T>(reader).
//
// Wire forms: bool, integers and floats as themselves; enums as their
// underlying integer; std::string as Text; std::vector<T> as List(T);
// aggregates as a generated struct, written and read by the generated
// write_fields()/read_fields() overloads found by argument-dependent lookup.

#include <capnp/list.h>
#include <capnp/orphan.h>

#include <string>
#include <type_traits>
#include <vector>

namespace procxy::detail {

template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};

template <class T>
auto to_wire(const T& value) {
  if constexpr (std::is_enum_v<T>) {
    return static_cast<std::underlying_type_t<T>>(value);
  } else {
    static_assert(std::is_arithmetic_v<T>, "procxy: not a scalar type");
    return value;
  }
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
    return orphanage.newOrphanCopy(capnp::Text::Reader(value.data(), value.size()));
  } else if constexpr (kind == capnp::Kind::LIST) {
    using E = typename ListElement<W>::type;
    auto orphan = orphanage.newOrphan<W>(static_cast<unsigned>(value.size()));
    auto list = orphan.get();
    unsigned i = 0;
    for (const auto& element : value) write_element<E>(list, i++, element, orphanage);
    return orphan;
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

// get<T>(reader.getX()): the C++ value of a field.
template <class T, class R>
T get(R wire) {
  if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>) {
    return static_cast<T>(wire);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return std::string(wire.begin(), wire.size());
  } else if constexpr (IsVector<T>::value) {
    T out;
    out.reserve(wire.size());
    for (auto element : wire) out.push_back(get<typename T::value_type>(element));
    return out;
  } else {
    T out{};
    read_fields(wire, out);
    return out;
  }
}

}  // namespace procxy::detail
