// Plain C++ structs for every grapevine wire message.
//
// Nothing outside proto/ sees a Cap'n Proto type: the codec (proto/codec.h) turns
// an Envelope into bytes and back. These structs are the contract between the
// codec, the pure protocol state machines in agent/core and the sessions in
// agent/net. Adding a field or a kind here means adding it, append-only, to
// proto/grapevine.capnp and to the codec (see docs/protocol.md).
//
// Value types; no thread-safety concerns.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "proto/float_array.h"

namespace grapevine::proto {

inline constexpr uint8_t kProtocolMajor = 1;
inline constexpr uint8_t kProtocolMinor = 1;  // 1.1: Poly1305 frame MACs

using NodeId = uint32_t;
inline constexpr NodeId kNoNode = std::numeric_limits<NodeId>::max();

enum class MemberState : uint8_t { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3 };

// One node as membership gossip describes it. Higher incarnation wins; at equal
// incarnation the "worse" state wins (alive < suspect < dead/left), SWIM-style.
struct MemberRecord {
  NodeId id = kNoNode;
  std::string addr;  // host:port the node listens on
  MemberState state = MemberState::kAlive;
  uint64_t incarnation = 0;
  bool operator==(const MemberRecord&) const = default;
};

// An undirected edge of the live graph, stored with a < b.
struct Edge {
  NodeId a = kNoNode;
  NodeId b = kNoNode;
  bool operator==(const Edge&) const = default;
};

using Nonce = std::array<uint8_t, 32>;
using Mac = std::array<uint8_t, 32>;       // HMAC-SHA256: auth proofs, key derivation
using FrameMac = std::array<uint8_t, 16>;  // Poly1305 tag trailing an authenticated frame

// ---- connection set-up -------------------------------------------------------

// First message each side sends on a new connection (after the frame header's
// version check). `nonce` is a fresh random challenge; when the swarm has a secret
// the other side must answer with an AuthProof over it before anything else.
struct Hello {
  uint8_t major = kProtocolMajor;
  uint8_t minor = kProtocolMinor;
  NodeId id = kNoNode;        // kNoNode for clients (topo live) and not-yet-joined nodes
  uint64_t incarnation = 0;
  std::string listen_addr;    // empty for clients
  bool client = false;        // true: a CLI client, not a peer
  bool auth_required = false; // sender has a secret and will demand an AuthProof
  Nonce nonce{};
};

// HMAC-SHA256 proof of the shared secret over the peer's nonce (see proto/auth.h).
struct AuthProof {
  Mac mac{};
};

// Outcome of authentication, sent by the side that checked a proof.
struct AuthResult {
  bool ok = false;
  std::string reason;
};

// ---- membership --------------------------------------------------------------

struct JoinRequest {
  std::string listen_addr;
  uint64_t arch_fingerprint = 0;  // joiner's model architecture, checked by the member
};

struct JoinReply {
  bool accepted = false;
  std::string reason;                 // why not, when !accepted
  NodeId assigned_id = kNoNode;
  std::vector<NodeId> neighbours;     // whom the joiner attaches to
  std::vector<MemberRecord> members;  // full membership snapshot
  std::vector<Edge> edges;            // full live edge set
};

// Membership state exchange. `full_state` marks push-pull anti-entropy (the
// whole table); otherwise it is a delta. `reply_wanted` asks for the peer's full
// state in return (the "pull" half).
struct MembershipUpdate {
  std::vector<MemberRecord> members;
  std::vector<Edge> edges_added;
  std::vector<Edge> edges_removed;
  bool full_state = false;
  bool reply_wanted = false;
};

// Failure detection. target == kNoNode: "are you alive?". Otherwise an indirect
// probe: "please ping `target` for `requester` and relay the Ack".
struct Ping {
  uint64_t seq = 0;
  NodeId target = kNoNode;
  NodeId requester = kNoNode;
};

struct Ack {
  uint64_t seq = 0;
  NodeId target = kNoNode;  // whose liveness this Ack proves (for relayed acks)
};

// ---- models and gradients ------------------------------------------------------

// A payload's codec. kFloat32: `values` holds the raw floats. Every other codec: `packed`
// holds one block per tensor of the model's layout, in the format of merge/compress.h
// (docs/compression.md); `codec_param` and `codec_seed` complete it.
enum class TensorCodec : uint8_t {
  kFloat32 = 0,
  kInt8 = 1,      // q8: stochastic rounding to 255 levels per block of 256, float scale
  kSignNorm = 2,  // sign: (|v|_1 / n) sign(v), bit-packed
  kTopK = 3,      // topk:F: the largest F*n magnitudes, float16 values, delta indices
  kQ4 = 4,        // q4: as kInt8 with 15 levels, two per byte
  kRandK = 5,     // randk:F: seeded random F*n entries, indices not sent
};
inline constexpr int kTensorCodecCount = 6;

enum class ModelPurpose : uint8_t {
  kGossip = 0,         // a round's model offer
  kStateTransfer = 1,  // reply to a joiner's ModelRequest
  kCrossGradient = 2,  // CGA: "compute the gradient of this model on your data"
  kPushShare = 3,      // sgp: a push-sum share (values = numerator share, push_weight)
  kChocoUpdate = 4,    // choco: compressed q = Q(x - x_hat) in `packed`; content_hash is
                       // the hash of the sender's public copy after adding q
  kPublicCopy = 5,     // choco: the sender's public copy in full precision (re-seed), or
                       // with no values a request for the receiver's
  kWorkerUpdate = 6,   // efficient-adam, member to leader: compressed Q(u + e_w) of one
                       // step's update in `packed`
  kLeaderUpdate = 7,   // efficient-adam, leader to member: the group's compressed step
                       // Q(avg + e_s) in `packed`; content_hash is the hash of the group
                       // model after applying it
  kGroupModel = 8,     // efficient-adam: the group model in full precision (re-seed), or
                       // with no values a member's request for it
  kDasoSnapshot = 9,   // daso: a snapshot for the global tier (neighbours in other
                       // groups), `round` = the sender's step when it was taken
};
inline constexpr int kModelPurposeCount = 10;

struct ModelRequest {
  ModelPurpose purpose = ModelPurpose::kStateTransfer;
};

struct ModelPayload {
  NodeId origin = kNoNode;
  ModelPurpose purpose = ModelPurpose::kGossip;
  uint64_t version = 0;        // origin's local step count
  uint64_t round = 0;          // origin's round
  uint64_t samples_seen = 0;
  uint64_t arch_fingerprint = 0;
  uint64_t content_hash = 0;   // hash of the decoded values (proto/hash.h)
  float train_loss = 0.0f;     // origin's recent training loss (plateau tests, progress)
  TensorCodec codec = TensorCodec::kFloat32;
  FloatArray values;           // kFloat32 (vector-like; may view a receive buffer)
  std::vector<uint8_t> packed; // compressed codecs
  std::vector<float> scales;   // compressed codecs
  std::vector<float> extra;    // algorithm side-channel (e.g. GraB signed sums)
  // dimat / wm: whose hidden-unit coordinate system the values are in (kNoNode =
  // unknown). Two models of the same frame are merged without re-matching.
  NodeId frame = kNoNode;
  // sgp: the push-sum weight of a share (ALGORITHMS.md §9); 1 for every other model, and
  // for a message from an agent that predates the field.
  double push_weight = 1.0;
  // Compressed payloads: the codec's parameter (topk/randk fraction) and seed.
  float codec_param = 0.0f;
  uint64_t codec_seed = 0;
};

// CGA reply: gradient of `origin`'s model (version) on the replier's data.
struct CrossGradient {
  NodeId origin = kNoNode;     // whose model the gradient is for
  uint64_t version = 0;
  uint64_t content_hash = 0;
  TensorCodec codec = TensorCodec::kFloat32;
  FloatArray values;
  std::vector<uint8_t> packed;
  std::vector<float> scales;
  // Compressed answers (codec != float32): as ModelPayload's.
  float codec_param = 0.0f;
  uint64_t codec_seed = 0;
};

// ---- observation -----------------------------------------------------------------

struct StatusRequest {};

struct NodeStatus {
  NodeId id = kNoNode;
  std::string addr;
  MemberState state = MemberState::kAlive;
  uint64_t incarnation = 0;
  uint64_t round = 0;
  double last_accuracy = -1.0;  // < 0: not evaluated yet
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

struct StatusReply {
  NodeId self = kNoNode;
  std::string algo;
  std::vector<NodeStatus> nodes;
  std::vector<Edge> edges;
};

struct Bye {
  std::string reason;
};

// Reply to a message kind the receiver does not know.
struct Unimplemented {
  uint16_t kind = 0;
};

// What the codec yields for a union member it does not know (a newer peer).
struct UnknownKind {
  uint16_t kind = 0;
};

// What a message carries, for the byte counters of the agent's metrics (bytes on the
// wire by message kind): full-precision models (gossip, state transfer, push shares,
// public copies), compressed updates and compressed cross-gradients, full-precision
// cross-gradients, and everything else (membership,
// handshakes, status).
enum class TrafficClass : uint8_t { kControl = 0, kModel = 1, kCompressed = 2, kGradient = 3 };
inline constexpr int kTrafficClassCount = 4;

using Body = std::variant<Hello, AuthProof, AuthResult, JoinRequest, JoinReply, MembershipUpdate,
                          Ping, Ack, ModelRequest, ModelPayload, CrossGradient, StatusRequest,
                          StatusReply, Bye, Unimplemented, UnknownKind>;

struct Envelope {
  NodeId sender = kNoNode;
  uint64_t incarnation = 0;
  std::vector<MemberRecord> gossip;  // piggybacked membership broadcasts
  Body body;
};

}  // namespace grapevine::proto
