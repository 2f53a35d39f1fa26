# grapevine wire schema: one Envelope per frame (see docs/protocol.md).
#
# Only proto/codec.cc reads or writes these types; everything else uses the plain
# structs in proto/messages.h.
#
# EVOLUTION RULE — APPEND ONLY:
#   * never renumber, reorder, retype or delete a field or a union member;
#   * new fields and new union members take the next free ordinal (@N);
#   * a removed feature keeps its ordinal forever (rename it obsoleteFoo if needed).
# The union members of Envelope.body are declared in the same order as the
# alternatives of proto::Body, so a union discriminant equals the variant index
# (codec.cc checks this with static_asserts). An old peer receiving a newer union
# member decodes it as proto::UnknownKind and answers Unimplemented.
#
# Node ids default to 0xffffffff (proto::kNoNode) so that a field missing from an
# older writer reads as "no node", not as node 0.

@0xaea58e51c12d4835;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("grapevine::proto::schema");

enum MemberState {
  alive @0;
  suspect @1;
  dead @2;
  left @3;
}

struct MemberRecord {
  id @0 :UInt32 = 0xffffffff;
  addr @1 :Text;
  state @2 :MemberState;
  incarnation @3 :UInt64;
}

struct Edge {
  a @0 :UInt32 = 0xffffffff;
  b @1 :UInt32 = 0xffffffff;
}

# Nonces and MACs are Data of exactly 32 bytes.
struct Hello {
  major @0 :UInt8;
  minor @1 :UInt8;
  id @2 :UInt32 = 0xffffffff;
  incarnation @3 :UInt64;
  listenAddr @4 :Text;
  client @5 :Bool;
  authRequired @6 :Bool;
  nonce @7 :Data;
}

struct AuthProof {
  mac @0 :Data;
}

struct AuthResult {
  ok @0 :Bool;
  reason @1 :Text;
}

struct JoinRequest {
  listenAddr @0 :Text;
  archFingerprint @1 :UInt64;
}

struct JoinReply {
  accepted @0 :Bool;
  reason @1 :Text;
  assignedId @2 :UInt32 = 0xffffffff;
  neighbours @3 :List(UInt32);
  members @4 :List(MemberRecord);
  edges @5 :List(Edge);
}

struct MembershipUpdate {
  members @0 :List(MemberRecord);
  edgesAdded @1 :List(Edge);
  edgesRemoved @2 :List(Edge);
  fullState @3 :Bool;
  replyWanted @4 :Bool;
}

struct Ping {
  seq @0 :UInt64;
  target @1 :UInt32 = 0xffffffff;
  requester @2 :UInt32 = 0xffffffff;
}

struct Ack {
  seq @0 :UInt64;
  target @1 :UInt32 = 0xffffffff;
}

enum TensorCodec {
  float32 @0;
  int8 @1;
  signNorm @2;
  topK @3;
  q4 @4;
  randK @5;
}

enum ModelPurpose {
  gossip @0;
  stateTransfer @1;
  crossGradient @2;
  pushShare @3;
  chocoUpdate @4;
  publicCopy @5;
  workerUpdate @6;
  leaderUpdate @7;
  groupModel @8;
  dasoSnapshot @9;
}

struct ModelRequest {
  purpose @0 :ModelPurpose = stateTransfer;
}

# Float arrays (values, scales, extra) are Data blobs of little-endian float32.
struct ModelPayload {
  origin @0 :UInt32 = 0xffffffff;
  purpose @1 :ModelPurpose;
  version @2 :UInt64;
  round @3 :UInt64;
  samplesSeen @4 :UInt64;
  archFingerprint @5 :UInt64;
  contentHash @6 :UInt64;
  trainLoss @7 :Float32;
  codec @8 :TensorCodec;
  values @9 :Data;
  packed @10 :Data;
  scales @11 :Data;
  extra @12 :Data;
  # Alignment frame (dimat, wm): the node whose hidden-unit coordinates these values
  # are in; 0xffffffff = unknown (always matched).
  frame @13 :UInt32 = 0xffffffff;
  # Push-sum weight of an sgp share; 1 for every other model (and when absent).
  pushWeight @14 :Float64 = 1.0;
  # Compressed payloads (codec != float32): the codec's parameter (topK/randK: the
  # fraction of entries kept) and the seed its randomness derives from; `packed` holds
  # the per-tensor blocks (docs/compression.md).
  codecParam @15 :Float32;
  codecSeed @16 :UInt64;
}

struct CrossGradient {
  origin @0 :UInt32 = 0xffffffff;
  version @1 :UInt64;
  contentHash @2 :UInt64;
  codec @3 :TensorCodec;
  values @4 :Data;
  packed @5 :Data;
  scales @6 :Data;
  # Compressed answers (cga --compress; codec != float32): as ModelPayload's fields of
  # the same names; `packed` holds the per-tensor blocks.
  codecParam @7 :Float32;
  codecSeed @8 :UInt64;
}

struct StatusRequest {}

struct NodeStatus {
  id @0 :UInt32 = 0xffffffff;
  addr @1 :Text;
  state @2 :MemberState;
  incarnation @3 :UInt64;
  round @4 :UInt64;
  lastAccuracy @5 :Float64 = -1.0;
  bytesIn @6 :UInt64;
  bytesOut @7 :UInt64;
}

struct StatusReply {
  self @0 :UInt32 = 0xffffffff;
  algo @1 :Text;
  nodes @2 :List(NodeStatus);
  edges @3 :List(Edge);
}

struct Bye {
  reason @0 :Text;
}

struct Unimplemented {
  kind @0 :UInt16;
}

struct Envelope {
  sender @0 :UInt32 = 0xffffffff;
  incarnation @1 :UInt64;
  gossip @2 :List(MemberRecord);

  body :union {
    hello @3 :Hello;
    authProof @4 :AuthProof;
    authResult @5 :AuthResult;
    joinRequest @6 :JoinRequest;
    joinReply @7 :JoinReply;
    membershipUpdate @8 :MembershipUpdate;
    ping @9 :Ping;
    ack @10 :Ack;
    modelRequest @11 :ModelRequest;
    modelPayload @12 :ModelPayload;
    crossGradient @13 :CrossGradient;
    statusRequest @14 :StatusRequest;
    statusReply @15 :StatusReply;
    bye @16 :Bye;
    unimplemented @17 :Unimplemented;
    # Next member: @18. Add its struct to proto::Body just before UnknownKind,
    # which stays the last alternative and never travels on the wire.
  }
}
