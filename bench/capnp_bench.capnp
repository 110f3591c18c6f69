@0xc3d964f8281d3502;

# The baseline's interface: the calls bench_service.h's classes make through
# procxy, as a Cap'n Proto RPC interface a user would otherwise write.

interface Bench {
  add @0 (a :Int32, b :Int32) -> (sum :Int32);
  echo @1 (text :Text) -> (text :Text);
  mirror @2 (data :Data) -> (data :Data);
  # Calls listener.tick(i) for i in [0, count) and returns once every tick
  # has been delivered: an event stream.
  ticks @3 (listener :Listener, count :Int32) -> ();
}

interface Listener {
  tick @0 (value :Int32) -> ();
}
