#include "proto/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <bit>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>

#include "proto/grapevine.capnp.h"

namespace grapevine::proto {

static_assert(std::endian::native == std::endian::little,
              "float blobs are memcpy'd: the wire is little-endian float32");
static_assert(sizeof(float) == 4);

namespace {

namespace s = schema;
using WireBody = s::Envelope::Body;

// ---- union discriminant == variant index ---------------------------------------------

template <typename T, typename V>
struct VariantIndex;
template <typename T, typename... Ts>
struct VariantIndex<T, std::variant<Ts...>> {
  static constexpr size_t value = [] {
    constexpr bool matches[] = {std::is_same_v<T, Ts>...};
    for (size_t i = 0; i < sizeof...(Ts); ++i) {
      if (matches[i]) return i;
    }
    return sizeof...(Ts);
  }();
};
template <typename T>
constexpr uint16_t kIndexOf = static_cast<uint16_t>(VariantIndex<T, Body>::value);

#define GV_SAME_KIND(Type, WHICH) \
  static_assert(kIndexOf<Type> == static_cast<uint16_t>(WireBody::WHICH), #Type " ordinal")
GV_SAME_KIND(Hello, HELLO);
GV_SAME_KIND(AuthProof, AUTH_PROOF);
GV_SAME_KIND(AuthResult, AUTH_RESULT);
GV_SAME_KIND(JoinRequest, JOIN_REQUEST);
GV_SAME_KIND(JoinReply, JOIN_REPLY);
GV_SAME_KIND(MembershipUpdate, MEMBERSHIP_UPDATE);
GV_SAME_KIND(Ping, PING);
GV_SAME_KIND(Ack, ACK);
GV_SAME_KIND(ModelRequest, MODEL_REQUEST);
GV_SAME_KIND(ModelPayload, MODEL_PAYLOAD);
GV_SAME_KIND(CrossGradient, CROSS_GRADIENT);
GV_SAME_KIND(StatusRequest, STATUS_REQUEST);
GV_SAME_KIND(StatusReply, STATUS_REPLY);
GV_SAME_KIND(Bye, BYE);
GV_SAME_KIND(Unimplemented, UNIMPLEMENTED);
#undef GV_SAME_KIND
static_assert(kIndexOf<UnknownKind> == std::variant_size_v<Body> - 1,
              "UnknownKind must stay the last alternative of proto::Body");

static_assert(static_cast<uint16_t>(s::MemberState::LEFT) ==
              static_cast<uint16_t>(MemberState::kLeft));
static_assert(static_cast<uint16_t>(s::TensorCodec::TOP_K) ==
              static_cast<uint16_t>(TensorCodec::kTopK));
static_assert(static_cast<uint16_t>(s::TensorCodec::RAND_K) ==
              static_cast<uint16_t>(TensorCodec::kRandK));
static_assert(static_cast<int>(TensorCodec::kRandK) + 1 == kTensorCodecCount);
static_assert(static_cast<uint16_t>(s::ModelPurpose::CROSS_GRADIENT) ==
              static_cast<uint16_t>(ModelPurpose::kCrossGradient));
static_assert(static_cast<uint16_t>(s::ModelPurpose::PUBLIC_COPY) ==
              static_cast<uint16_t>(ModelPurpose::kPublicCopy));
static_assert(static_cast<uint16_t>(s::ModelPurpose::GROUP_MODEL) ==
              static_cast<uint16_t>(ModelPurpose::kGroupModel));
static_assert(static_cast<uint16_t>(s::ModelPurpose::DASO_SNAPSHOT) ==
              static_cast<uint16_t>(ModelPurpose::kDasoSnapshot));
static_assert(static_cast<int>(ModelPurpose::kDasoSnapshot) + 1 == kModelPurposeCount);

constexpr const char* kKindNames[] = {
    "hello",       "authProof", "authResult",   "joinRequest",  "joinReply",     "membershipUpdate",
    "ping",        "ack",       "modelRequest", "modelPayload", "crossGradient", "statusRequest",
    "statusReply", "bye",       "unimplemented"};
static_assert(std::size(kKindNames) == std::variant_size_v<Body> - 1);

// ---- writing ------------------------------------------------------------------------------

// Capnp lists and blobs hold at most 2^29 elements; our frames are far smaller,
// so a bigger array is a caller bug, not input.
constexpr size_t kMaxCapnpElements = (size_t{1} << 29) - 1;

capnp::Text::Reader AsText(const std::string& str) { return {str.data(), str.size()}; }

template <typename InitFn>
void WriteBlob(InitFn init, const void* data, size_t bytes) {
  if (bytes == 0) return;
  GV_CHECK_MSG(bytes <= kMaxCapnpElements, "blob too large for one message");
  capnp::Data::Builder d = init(static_cast<unsigned>(bytes));
  std::memcpy(d.begin(), data, bytes);
}

// Float arrays at least this big may be referenced rather than copied: below it
// an extra segment (and iovec entry) costs more than the memcpy it saves.
constexpr size_t kMinReferencedBytes = size_t{64} << 10;

#define GV_WRITE_FLOATS(builder, Field, vec) \
  WriteBlob([&](unsigned n) { return builder.init##Field(n); }, (vec).data(), (vec).size() * 4)
#define GV_WRITE_BIG_FLOATS(builder, Field, vec)                     \
  WriteBigFloats([&](unsigned n) { return builder.init##Field(n); }, \
                 [&](capnp::Orphan<capnp::Data>&& o) { builder.adopt##Field(kj::mv(o)); }, (vec))
#define GV_WRITE_BYTES(builder, Field, vec) \
  WriteBlob([&](unsigned n) { return builder.init##Field(n); }, (vec).data(), (vec).size())

void Write(const MemberRecord& m, s::MemberRecord::Builder b) {
  b.setId(m.id);
  b.setAddr(AsText(m.addr));
  b.setState(static_cast<s::MemberState>(m.state));
  b.setIncarnation(m.incarnation);
}

void Write(const Edge& e, s::Edge::Builder b) {
  b.setA(e.a);
  b.setB(e.b);
}

void Write(const NodeStatus& n, s::NodeStatus::Builder b) {
  b.setId(n.id);
  b.setAddr(AsText(n.addr));
  b.setState(static_cast<s::MemberState>(n.state));
  b.setIncarnation(n.incarnation);
  b.setRound(n.round);
  b.setLastAccuracy(n.last_accuracy);
  b.setBytesIn(n.bytes_in);
  b.setBytesOut(n.bytes_out);
}

template <typename T, typename InitFn>
void WriteList(const std::vector<T>& items, InitFn init) {
  if (items.empty()) return;
  GV_CHECK_MSG(items.size() <= kMaxCapnpElements, "list too long for one message");
  auto list = init(static_cast<unsigned>(items.size()));
  for (unsigned i = 0; i < items.size(); ++i) Write(items[i], list[i]);
}

struct BodyWriter {
  mutable WireBody::Builder b;  // capnp builders are handles; std::visit wants const
  // Non-null: reference big float arrays in place (the caller keeps them alive).
  const capnp::Orphanage* external = nullptr;

  template <typename InitFn, typename AdoptFn>
  void WriteBigFloats(InitFn init, AdoptFn adopt, const FloatArray& v) const {
    size_t bytes = v.size() * sizeof(float);
    // capnp exposes the tail of the last word of an external segment on the
    // wire, so only whole-word arrays are referenced (never bytes past the end).
    bool reference = external != nullptr && bytes >= kMinReferencedBytes && bytes % 8 == 0 &&
                     reinterpret_cast<uintptr_t>(v.data()) % 8 == 0;
    if (!reference) return WriteBlob(init, v.data(), bytes);
    GV_CHECK_MSG(bytes <= kMaxCapnpElements, "blob too large for one message");
    adopt(external->referenceExternalData(
        capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(v.data()), bytes)));
  }

  void operator()(const Hello& m) const {
    auto w = b.initHello();
    w.setMajor(m.major);
    w.setMinor(m.minor);
    w.setId(m.id);
    w.setIncarnation(m.incarnation);
    w.setListenAddr(AsText(m.listen_addr));
    w.setClient(m.client);
    w.setAuthRequired(m.auth_required);
    GV_WRITE_BYTES(w, Nonce, m.nonce);
  }
  void operator()(const AuthProof& m) const {
    auto w = b.initAuthProof();
    GV_WRITE_BYTES(w, Mac, m.mac);
  }
  void operator()(const AuthResult& m) const {
    auto w = b.initAuthResult();
    w.setOk(m.ok);
    w.setReason(AsText(m.reason));
  }
  void operator()(const JoinRequest& m) const {
    auto w = b.initJoinRequest();
    w.setListenAddr(AsText(m.listen_addr));
    w.setArchFingerprint(m.arch_fingerprint);
  }
  void operator()(const JoinReply& m) const {
    auto w = b.initJoinReply();
    w.setAccepted(m.accepted);
    w.setReason(AsText(m.reason));
    w.setAssignedId(m.assigned_id);
    if (!m.neighbours.empty()) {
      GV_CHECK(m.neighbours.size() <= kMaxCapnpElements);
      auto list = w.initNeighbours(static_cast<unsigned>(m.neighbours.size()));
      for (unsigned i = 0; i < m.neighbours.size(); ++i) list.set(i, m.neighbours[i]);
    }
    WriteList(m.members, [&](unsigned n) { return w.initMembers(n); });
    WriteList(m.edges, [&](unsigned n) { return w.initEdges(n); });
  }
  void operator()(const MembershipUpdate& m) const {
    auto w = b.initMembershipUpdate();
    WriteList(m.members, [&](unsigned n) { return w.initMembers(n); });
    WriteList(m.edges_added, [&](unsigned n) { return w.initEdgesAdded(n); });
    WriteList(m.edges_removed, [&](unsigned n) { return w.initEdgesRemoved(n); });
    w.setFullState(m.full_state);
    w.setReplyWanted(m.reply_wanted);
  }
  void operator()(const Ping& m) const {
    auto w = b.initPing();
    w.setSeq(m.seq);
    w.setTarget(m.target);
    w.setRequester(m.requester);
  }
  void operator()(const Ack& m) const {
    auto w = b.initAck();
    w.setSeq(m.seq);
    w.setTarget(m.target);
  }
  void operator()(const ModelRequest& m) const {
    b.initModelRequest().setPurpose(static_cast<s::ModelPurpose>(m.purpose));
  }
  void operator()(const ModelPayload& m) const {
    auto w = b.initModelPayload();
    w.setOrigin(m.origin);
    w.setPurpose(static_cast<s::ModelPurpose>(m.purpose));
    w.setVersion(m.version);
    w.setRound(m.round);
    w.setSamplesSeen(m.samples_seen);
    w.setArchFingerprint(m.arch_fingerprint);
    w.setContentHash(m.content_hash);
    w.setTrainLoss(m.train_loss);
    w.setCodec(static_cast<s::TensorCodec>(m.codec));
    GV_WRITE_BIG_FLOATS(w, Values, m.values);
    GV_WRITE_BYTES(w, Packed, m.packed);
    GV_WRITE_FLOATS(w, Scales, m.scales);
    GV_WRITE_FLOATS(w, Extra, m.extra);
    w.setFrame(m.frame);
    w.setPushWeight(m.push_weight);
    w.setCodecParam(m.codec_param);
    w.setCodecSeed(m.codec_seed);
  }
  void operator()(const CrossGradient& m) const {
    auto w = b.initCrossGradient();
    w.setOrigin(m.origin);
    w.setVersion(m.version);
    w.setContentHash(m.content_hash);
    w.setCodec(static_cast<s::TensorCodec>(m.codec));
    GV_WRITE_BIG_FLOATS(w, Values, m.values);
    GV_WRITE_BYTES(w, Packed, m.packed);
    GV_WRITE_FLOATS(w, Scales, m.scales);
    w.setCodecParam(m.codec_param);
    w.setCodecSeed(m.codec_seed);
  }
  void operator()(const StatusRequest&) const { b.initStatusRequest(); }
  void operator()(const StatusReply& m) const {
    auto w = b.initStatusReply();
    w.setSelf(m.self);
    w.setAlgo(AsText(m.algo));
    WriteList(m.nodes, [&](unsigned n) { return w.initNodes(n); });
    WriteList(m.edges, [&](unsigned n) { return w.initEdges(n); });
  }
  void operator()(const Bye& m) const { b.initBye().setReason(AsText(m.reason)); }
  void operator()(const Unimplemented& m) const { b.initUnimplemented().setKind(m.kind); }
  void operator()(const UnknownKind&) const {
    GV_CHECK_MSG(false, "UnknownKind has no wire form; answer with Unimplemented instead");
  }
};
#undef GV_WRITE_FLOATS
#undef GV_WRITE_BIG_FLOATS
#undef GV_WRITE_BYTES

// First-segment size guess, so a big model lands in one segment without regrowth.
// Referenced arrays live in their own segments and need no room here.
size_t EstimateWords(const Envelope& env, bool reference_arrays) {
  auto big = [&](const FloatArray& v) {
    bool referenced = reference_arrays && v.size() * sizeof(float) >= kMinReferencedBytes;
    return referenced ? size_t{0} : 4 * v.size();
  };
  size_t bytes = 512 + env.gossip.size() * 64;
  if (const auto* m = std::get_if<ModelPayload>(&env.body)) {
    bytes += big(m->values) + 4 * (m->scales.size() + m->extra.size()) + m->packed.size();
  } else if (const auto* g = std::get_if<CrossGradient>(&env.body)) {
    bytes += big(g->values) + 4 * g->scales.size() + g->packed.size();
  } else if (const auto* j = std::get_if<JoinReply>(&env.body)) {
    bytes += 4 * j->neighbours.size() + 64 * j->members.size() + 16 * j->edges.size();
  } else if (const auto* u = std::get_if<MembershipUpdate>(&env.body)) {
    bytes += 64 * u->members.size() + 16 * (u->edges_added.size() + u->edges_removed.size());
  } else if (const auto* r = std::get_if<StatusReply>(&env.body)) {
    bytes += 96 * r->nodes.size() + 16 * r->edges.size();
  }
  return std::min<size_t>(bytes / 8 + 64, kMaxCapnpElements);
}

}  // namespace

// ---- EncodedMessage -------------------------------------------------------------------

struct EncodedMessage::Impl {
  explicit Impl(size_t first_segment_words) : builder(static_cast<unsigned>(first_segment_words)) {}
  std::optional<Envelope> owned;  // Encode(Envelope&&): referenced arrays live here
  capnp::MallocMessageBuilder builder;
  std::vector<uint32_t> table;  // little-endian segment table, padded to 8 bytes
  std::vector<std::span<const uint8_t>> pieces;
  size_t size = 0;
};

EncodedMessage::EncodedMessage() = default;
EncodedMessage::~EncodedMessage() = default;
EncodedMessage::EncodedMessage(EncodedMessage&&) noexcept = default;
EncodedMessage& EncodedMessage::operator=(EncodedMessage&&) noexcept = default;

std::vector<std::span<const uint8_t>> EncodedMessage::Pieces() const {
  if (!impl_) return {};
  return impl_->pieces;
}

size_t EncodedMessage::size() const { return impl_ ? impl_->size : 0; }

std::vector<uint8_t> EncodedMessage::Flatten() const {
  std::vector<uint8_t> out;
  out.reserve(size());
  for (auto piece : Pieces()) out.insert(out.end(), piece.begin(), piece.end());
  return out;
}

void EncodedMessage::Build(const Envelope& env, bool reference_arrays) {
  Impl& impl = *impl_;
  auto root = impl.builder.initRoot<s::Envelope>();
  root.setSender(env.sender);
  root.setIncarnation(env.incarnation);
  WriteList(env.gossip, [&](unsigned n) { return root.initGossip(n); });
  capnp::Orphanage orphanage = impl.builder.getOrphanage();
  std::visit(BodyWriter{root.initBody(), reference_arrays ? &orphanage : nullptr}, env.body);

  kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments =
      impl.builder.getSegmentsForOutput();
  GV_CHECK(segments.size() > 0);
  impl.table.assign((segments.size() + 2) & ~size_t{1}, 0);  // 1 + count, rounded up to even
  impl.table[0] = static_cast<uint32_t>(segments.size() - 1);
  for (size_t i = 0; i < segments.size(); ++i) {
    impl.table[i + 1] = static_cast<uint32_t>(segments[i].size());
  }
  impl.pieces.emplace_back(reinterpret_cast<const uint8_t*>(impl.table.data()),
                           impl.table.size() * sizeof(uint32_t));
  for (const auto& seg : segments) {
    impl.pieces.emplace_back(reinterpret_cast<const uint8_t*>(seg.begin()),
                             seg.size() * sizeof(capnp::word));
  }
  for (auto piece : impl.pieces) impl.size += piece.size();
}

TrafficClass TrafficOf(const Body& body) {
  if (const auto* m = std::get_if<ModelPayload>(&body)) {
    return m->codec == TensorCodec::kFloat32 ? TrafficClass::kModel : TrafficClass::kCompressed;
  }
  if (const auto* g = std::get_if<CrossGradient>(&body)) {
    return g->codec == TensorCodec::kFloat32 ? TrafficClass::kGradient : TrafficClass::kCompressed;
  }
  return TrafficClass::kControl;
}

EncodedMessage Encode(const Envelope& env) {
  EncodedMessage msg;
  msg.traffic_ = TrafficOf(env.body);
  msg.impl_ = std::make_unique<EncodedMessage::Impl>(EstimateWords(env, false));
  msg.Build(env, /*reference_arrays=*/false);
  return msg;
}

EncodedMessage Encode(Envelope&& env) {
  EncodedMessage msg;
  msg.traffic_ = TrafficOf(env.body);
  msg.impl_ = std::make_unique<EncodedMessage::Impl>(EstimateWords(env, true));
  // Moving a vector keeps its buffer, but the arrays are referenced only after
  // the move, from their final home.
  msg.impl_->owned.emplace(std::move(env));
  msg.Build(*msg.impl_->owned, /*reference_arrays=*/true);
  return msg;
}

// ---- reading ------------------------------------------------------------------------------

namespace {

// Reads are validated: anything the C++ structs cannot represent faithfully (an
// enum value from the future, a nonce of the wrong size, a float blob whose size
// is not a multiple of 4, an over-long list) is an Invalid status, not a guess.

std::string Str(capnp::Text::Reader t) { return std::string(t.begin(), t.size()); }

Status ReadFixed(capnp::Data::Reader d, std::array<uint8_t, 32>* out, const char* what) {
  if (d.size() != out->size()) {
    return Status::Invalid(std::string(what) + " has " + std::to_string(d.size()) +
                           " bytes, want " + std::to_string(out->size()));
  }
  std::memcpy(out->data(), d.begin(), d.size());
  return Status::Ok();
}

Status ReadFloats(capnp::Data::Reader d, std::vector<float>* out, const char* what) {
  if (d.size() % 4 != 0) {
    return Status::Invalid(std::string(what) + ": " + std::to_string(d.size()) +
                           " bytes is not a whole number of float32");
  }
  out->resize(d.size() / 4);
  if (!out->empty()) std::memcpy(out->data(), d.begin(), d.size());
  return Status::Ok();
}

// A model's values: viewed in place inside `block` when there is one and the array
// is big enough for the copy to matter, copied otherwise.
Status ReadValues(capnp::Data::Reader d, const std::shared_ptr<void>& block, FloatArray* out) {
  if (d.size() % 4 != 0) {
    return Status::Invalid("values: " + std::to_string(d.size()) +
                           " bytes is not a whole number of float32");
  }
  if (block != nullptr && d.size() >= kMinReferencedBytes &&
      reinterpret_cast<uintptr_t>(d.begin()) % alignof(float) == 0) {
    // The payload is mutable memory owned by `block` (Decode's contract); capnp
    // hands out const pointers because readers usually do not own their input.
    auto* values = reinterpret_cast<float*>(const_cast<capnp::byte*>(d.begin()));
    *out = FloatArray::View(block, values, d.size() / 4);
    return Status::Ok();
  }
  out->resize(d.size() / 4);
  if (!out->empty()) std::memcpy(out->data(), d.begin(), d.size());
  return Status::Ok();
}

void ReadBytes(capnp::Data::Reader d, std::vector<uint8_t>* out) {
  out->assign(d.begin(), d.end());
}

template <typename WireEnum, typename Enum>
Status ReadEnum(WireEnum w, uint16_t count, Enum* out, const char* what) {
  auto raw = static_cast<uint16_t>(w);
  if (raw >= count) {
    return Status::Invalid(std::string("unknown ") + what + " " + std::to_string(raw));
  }
  *out = static_cast<Enum>(raw);
  return Status::Ok();
}

Status Read(s::MemberRecord::Reader r, MemberRecord* m) {
  m->id = r.getId();
  m->addr = Str(r.getAddr());
  m->incarnation = r.getIncarnation();
  return ReadEnum(r.getState(), 4, &m->state, "member state");
}

Status Read(s::Edge::Reader r, Edge* e) {
  e->a = r.getA();
  e->b = r.getB();
  return Status::Ok();
}

Status Read(s::NodeStatus::Reader r, NodeStatus* n) {
  n->id = r.getId();
  n->addr = Str(r.getAddr());
  n->incarnation = r.getIncarnation();
  n->round = r.getRound();
  n->last_accuracy = r.getLastAccuracy();
  n->bytes_in = r.getBytesIn();
  n->bytes_out = r.getBytesOut();
  return ReadEnum(r.getState(), 4, &n->state, "member state");
}

template <typename ListReader, typename T>
Status ReadList(ListReader list, std::vector<T>* out, const char* what) {
  if (list.size() > kMaxListEntries) {
    return Status::Invalid(std::string(what) + " has " + std::to_string(list.size()) +
                           " entries, limit " + std::to_string(kMaxListEntries));
  }
  out->resize(list.size());
  for (unsigned i = 0; i < list.size(); ++i) {
    GV_RETURN_IF_ERROR(Read(list[i], &(*out)[i]));
  }
  return Status::Ok();
}

Status Read(s::Hello::Reader r, Hello* m) {
  m->major = r.getMajor();
  m->minor = r.getMinor();
  m->id = r.getId();
  m->incarnation = r.getIncarnation();
  m->listen_addr = Str(r.getListenAddr());
  m->client = r.getClient();
  m->auth_required = r.getAuthRequired();
  return ReadFixed(r.getNonce(), &m->nonce, "nonce");
}

Status Read(s::AuthProof::Reader r, AuthProof* m) { return ReadFixed(r.getMac(), &m->mac, "mac"); }

Status Read(s::AuthResult::Reader r, AuthResult* m) {
  m->ok = r.getOk();
  m->reason = Str(r.getReason());
  return Status::Ok();
}

Status Read(s::JoinRequest::Reader r, JoinRequest* m) {
  m->listen_addr = Str(r.getListenAddr());
  m->arch_fingerprint = r.getArchFingerprint();
  return Status::Ok();
}

Status Read(s::JoinReply::Reader r, JoinReply* m) {
  m->accepted = r.getAccepted();
  m->reason = Str(r.getReason());
  m->assigned_id = r.getAssignedId();
  auto nb = r.getNeighbours();
  if (nb.size() > kMaxListEntries) return Status::Invalid("neighbours: too many entries");
  m->neighbours.resize(nb.size());
  for (unsigned i = 0; i < nb.size(); ++i) m->neighbours[i] = nb[i];
  GV_RETURN_IF_ERROR(ReadList(r.getMembers(), &m->members, "members"));
  return ReadList(r.getEdges(), &m->edges, "edges");
}

Status Read(s::MembershipUpdate::Reader r, MembershipUpdate* m) {
  GV_RETURN_IF_ERROR(ReadList(r.getMembers(), &m->members, "members"));
  GV_RETURN_IF_ERROR(ReadList(r.getEdgesAdded(), &m->edges_added, "edgesAdded"));
  GV_RETURN_IF_ERROR(ReadList(r.getEdgesRemoved(), &m->edges_removed, "edgesRemoved"));
  m->full_state = r.getFullState();
  m->reply_wanted = r.getReplyWanted();
  return Status::Ok();
}

Status Read(s::Ping::Reader r, Ping* m) {
  *m = Ping{r.getSeq(), r.getTarget(), r.getRequester()};
  return Status::Ok();
}

Status Read(s::Ack::Reader r, Ack* m) {
  *m = Ack{r.getSeq(), r.getTarget()};
  return Status::Ok();
}

Status Read(s::ModelRequest::Reader r, ModelRequest* m) {
  return ReadEnum(r.getPurpose(), 3, &m->purpose, "model purpose");
}

// Each blob getter is called exactly once: every call counts against the
// traversal limit, which is sized for reading the message once.
Status Read(s::ModelPayload::Reader r, const std::shared_ptr<void>& block, ModelPayload* m) {
  m->origin = r.getOrigin();
  GV_RETURN_IF_ERROR(ReadEnum(r.getPurpose(), kModelPurposeCount, &m->purpose, "model purpose"));
  m->version = r.getVersion();
  m->round = r.getRound();
  m->samples_seen = r.getSamplesSeen();
  m->arch_fingerprint = r.getArchFingerprint();
  m->content_hash = r.getContentHash();
  m->train_loss = r.getTrainLoss();
  GV_RETURN_IF_ERROR(ReadEnum(r.getCodec(), kTensorCodecCount, &m->codec, "tensor codec"));
  GV_RETURN_IF_ERROR(ReadValues(r.getValues(), block, &m->values));
  ReadBytes(r.getPacked(), &m->packed);
  GV_RETURN_IF_ERROR(ReadFloats(r.getScales(), &m->scales, "scales"));
  m->frame = r.getFrame();
  m->push_weight = r.getPushWeight();
  m->codec_param = r.getCodecParam();
  m->codec_seed = r.getCodecSeed();
  return ReadFloats(r.getExtra(), &m->extra, "extra");
}

Status Read(s::CrossGradient::Reader r, const std::shared_ptr<void>& block, CrossGradient* m) {
  m->origin = r.getOrigin();
  m->version = r.getVersion();
  m->content_hash = r.getContentHash();
  GV_RETURN_IF_ERROR(ReadEnum(r.getCodec(), kTensorCodecCount, &m->codec, "tensor codec"));
  GV_RETURN_IF_ERROR(ReadValues(r.getValues(), block, &m->values));
  ReadBytes(r.getPacked(), &m->packed);
  m->codec_param = r.getCodecParam();
  m->codec_seed = r.getCodecSeed();
  return ReadFloats(r.getScales(), &m->scales, "scales");
}

Status Read(s::StatusRequest::Reader, StatusRequest*) { return Status::Ok(); }

Status Read(s::StatusReply::Reader r, StatusReply* m) {
  m->self = r.getSelf();
  m->algo = Str(r.getAlgo());
  GV_RETURN_IF_ERROR(ReadList(r.getNodes(), &m->nodes, "nodes"));
  return ReadList(r.getEdges(), &m->edges, "edges");
}

Status Read(s::Bye::Reader r, Bye* m) {
  m->reason = Str(r.getReason());
  return Status::Ok();
}

Status Read(s::Unimplemented::Reader r, Unimplemented* m) {
  m->kind = r.getKind();
  return Status::Ok();
}

template <typename T, typename Reader>
Status ReadAs(Reader r, Body* body) {
  T m;
  GV_RETURN_IF_ERROR(Read(r, &m));
  *body = std::move(m);
  return Status::Ok();
}

// Kinds that carry a model's values, which may view `block`.
template <typename T, typename Reader>
Status ReadAs(Reader r, const std::shared_ptr<void>& block, Body* body) {
  T m;
  GV_RETURN_IF_ERROR(Read(r, block, &m));
  *body = std::move(m);
  return Status::Ok();
}

Status ReadBody(WireBody::Reader b, const std::shared_ptr<void>& block, Body* body) {
  switch (b.which()) {
    case WireBody::HELLO:
      return ReadAs<Hello>(b.getHello(), body);
    case WireBody::AUTH_PROOF:
      return ReadAs<AuthProof>(b.getAuthProof(), body);
    case WireBody::AUTH_RESULT:
      return ReadAs<AuthResult>(b.getAuthResult(), body);
    case WireBody::JOIN_REQUEST:
      return ReadAs<JoinRequest>(b.getJoinRequest(), body);
    case WireBody::JOIN_REPLY:
      return ReadAs<JoinReply>(b.getJoinReply(), body);
    case WireBody::MEMBERSHIP_UPDATE:
      return ReadAs<MembershipUpdate>(b.getMembershipUpdate(), body);
    case WireBody::PING:
      return ReadAs<Ping>(b.getPing(), body);
    case WireBody::ACK:
      return ReadAs<Ack>(b.getAck(), body);
    case WireBody::MODEL_REQUEST:
      return ReadAs<ModelRequest>(b.getModelRequest(), body);
    case WireBody::MODEL_PAYLOAD:
      return ReadAs<ModelPayload>(b.getModelPayload(), block, body);
    case WireBody::CROSS_GRADIENT:
      return ReadAs<CrossGradient>(b.getCrossGradient(), block, body);
    case WireBody::STATUS_REQUEST:
      return ReadAs<StatusRequest>(b.getStatusRequest(), body);
    case WireBody::STATUS_REPLY:
      return ReadAs<StatusReply>(b.getStatusReply(), body);
    case WireBody::BYE:
      return ReadAs<Bye>(b.getBye(), body);
    case WireBody::UNIMPLEMENTED:
      return ReadAs<Unimplemented>(b.getUnimplemented(), body);
  }
  // A member added to the union by a newer peer.
  *body = UnknownKind{static_cast<uint16_t>(b.which())};
  return Status::Ok();
}

// Checks the segment table against the payload before capnp sees it, so that the
// error names the problem and no table entry can make anyone allocate.
Status CheckSegmentTable(std::span<const uint8_t> payload) {
  auto u32 = [&](size_t i) {
    uint32_t v;
    std::memcpy(&v, payload.data() + 4 * i, 4);
    return v;
  };
  uint64_t count = uint64_t{u32(0)} + 1;
  if (count > kMaxSegments) {
    return Status::Invalid("message claims " + std::to_string(count) + " segments, limit " +
                           std::to_string(kMaxSegments));
  }
  uint64_t table_bytes = ((count + 2) & ~uint64_t{1}) * 4;
  if (table_bytes > payload.size()) {
    return Status::Invalid("message ends inside its segment table");
  }
  uint64_t body_bytes = 0;
  for (uint64_t i = 0; i < count; ++i) body_bytes += uint64_t{u32(1 + i)} * 8;
  if (table_bytes + body_bytes != payload.size()) {
    return Status::Invalid("segment table claims " + std::to_string(table_bytes + body_bytes) +
                           " bytes but the payload has " + std::to_string(payload.size()));
  }
  return Status::Ok();
}

}  // namespace

namespace {

Result<Envelope> DecodeImpl(std::span<const uint8_t> payload, std::shared_ptr<void> block) {
  if (payload.empty()) return Status::Invalid("empty message");
  if (payload.size() % sizeof(capnp::word) != 0) {
    return Status::Invalid("message size " + std::to_string(payload.size()) +
                           " is not a multiple of 8");
  }
  GV_RETURN_IF_ERROR(CheckSegmentTable(payload));

  size_t words = payload.size() / sizeof(capnp::word);
  kj::Array<capnp::word> aligned_copy;
  const capnp::word* data = reinterpret_cast<const capnp::word*>(payload.data());
  if (reinterpret_cast<uintptr_t>(payload.data()) % alignof(capnp::word) != 0) {
    // TODO(perf): callers should hand us aligned buffers (FrameDecoder does).
    aligned_copy = kj::heapArray<capnp::word>(words);
    std::memcpy(aligned_copy.begin(), payload.data(), payload.size());
    data = aligned_copy.begin();
    block.reset();  // nothing may view the copy, which dies with this call
  }

  capnp::ReaderOptions options;
  options.traversalLimitInWords = words * kTraversalFactor + kTraversalSlackWords;
  options.nestingLimit = kNestingLimit;
  try {
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(data, words), options);
    auto root = reader.getRoot<s::Envelope>();
    Envelope env;
    env.sender = root.getSender();
    env.incarnation = root.getIncarnation();
    GV_RETURN_IF_ERROR(ReadList(root.getGossip(), &env.gossip, "gossip"));
    auto body = root.getBody();
    Status st = ReadBody(body, block, &env.body);
    if (!st.ok()) {
      return st.WithContext("bad " + KindName(static_cast<uint16_t>(body.which())) + " message");
    }
    return env;
  } catch (const kj::Exception& e) {
    return Status::Invalid(std::string("malformed message: ") + e.getDescription().cStr());
  }
}

}  // namespace

Result<Envelope> Decode(std::span<const uint8_t> payload) { return DecodeImpl(payload, nullptr); }

Result<Envelope> Decode(std::span<uint8_t> payload, std::shared_ptr<void> block) {
  return DecodeImpl(payload, std::move(block));
}

uint16_t KindOf(const Body& body) {
  if (const auto* u = std::get_if<UnknownKind>(&body)) return u->kind;
  return static_cast<uint16_t>(body.index());
}

std::string KindName(uint16_t kind) {
  if (kind < std::size(kKindNames)) return kKindNames[kind];
  return "kind#" + std::to_string(kind);
}

}  // namespace grapevine::proto
