# A field of each kind put() treats apart, for outgoing_message_test.
@0x9a80f49981c08b06;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("procxy::test");

struct Blob {
  data @0 :Data;
  count @1 :UInt32;
}
