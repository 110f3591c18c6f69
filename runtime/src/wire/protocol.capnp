# The runtime's own messages: the start of a child and failures. Method
# params and results are in each class's generated *.procxy.capnp.
@0xd4c2a1f0e5b39a77;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("procxy::wire");

# Parent -> child, first frame: which class to construct.
struct Select {
  className @0 :Text;
  interfaceHash @1 :UInt64;
  runtimeVersion @2 :UInt32;
  concurrency @3 :UInt32 = 1;  # calls the child runs at once (Options::concurrency)
  # attach(): the child is a shared one, serving every client that connects
  # to this socket. Set only by the process that starts it.
  sharedSocket @4 :Text;
  sharedLock @5 :Text;         # the start lock, taken again before an idle exit
  idleExitMs @6 :UInt64;       # Options::idle_exit
  # Options::launcher: what the child sets up on itself, since a launcher
  # (ssh) carries neither the parent's environment nor its directory.
  launched @7 :Launched;
  sandbox @8 :Sandbox;  # Options::sandbox, when enabled: what the child may do once it serves
}

struct Sandbox {
  readOnly @0 :List(Text);
  readWrite @1 :List(Text);
  network @2 :Bool;
  exec @3 :Bool;
  allowSyscalls @4 :List(Text);
  bestEffort @5 :Bool;
}

struct Launched {
  env @0 :List(Variable);   # Options::env, set in the child's environment
  clearEnv @1 :Bool;        # Options::inherit_env = false: the environment is cleared first
  cwd @2 :Text;             # Options::cwd; empty: where the launcher started it
  limits @3 :Text;          # Options::limits, as process/limits.h encodes them
  heartbeatMs @4 :UInt64;   # Options::heartbeat: how often each side shows it is there
}

struct Variable {
  name @0 :Text;
  value @1 :Text;
}

# Child -> parent: the object exists.
struct Ready {
  pid @0 :Int32;  # the child's pid on its machine (remote_pid())
}

# Child -> parent: why a start or a call failed.
struct Failure {
  kind @0 :Kind;
  typeName @1 :Text;     # the exception's type, demangled (kind = exception)
  message @2 :Text;      # what(), or the runtime's explanation
  stack @3 :Text;        # the child's stack at the throw, where captured
  pid @4 :Int32;

  enum Kind {
    exception @0;            # the object (or its constructor) threw
    unknownClass @1;         # the child has no such class registered
    interfaceMismatch @2;    # parent and child were built from different headers
    missingServeIfChild @3;  # the program never calls procxy::serve_if_child
    protocol @4;             # the child received something it cannot decode
    refused @5;              # a shared child turned away a client of another user
    limits @6;               # the child could not set Options::limits on itself
    setup @7;                # a launched child could not apply Options::cwd or Options::env
    sandbox @8;              # the child could not engage Options::sandbox
  }
}
