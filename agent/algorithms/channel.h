// Channel: a kind of algorithm traffic between agents. Each registry row
// (agent/algorithms/registry.h) declares the channels its algorithm uses; the Node
// routes a validated message to the running algorithm by its channel and drops
// messages of channels the algorithm did not declare. The Node never looks at the
// algorithm's name.
//
// On the wire a channel is a message kind (and, for models, its purpose):
//   kModelGossip           ModelPayload, purpose gossip: the per-neighbour exchange
//   kCrossGradientRequest  ModelPayload, purpose crossGradient: "compute the gradient of
//                          this model on your data" (it is also the sender's gossip model)
//   kCrossGradientReply    CrossGradient: the answer
//   kPushShare             ModelPayload, purpose pushShare: a push-sum share (numerator
//                          and weight); every share counts, none may be superseded
//   kCompressedGossip      ModelPayload, purpose chocoUpdate (a compressed q = Q(x - x_hat))
//                          or publicCopy (a full-precision public copy, or a request for
//                          one); every update counts: a lost one desynchronises x_hat
//   kGroupUpdate           ModelPayload, purpose workerUpdate (member to its group's
//                          leader: a compressed step), leaderUpdate (leader to member: the
//                          group's compressed step) or groupModel (the group model in full
//                          precision, or a request for it); between any two members of a
//                          group, neighbours or not (efficient-adam)
//   kGlobalSnapshot        ModelPayload, purpose dasoSnapshot: a model snapshot for the
//                          other groups' neighbours (daso's global tier), merged when it
//                          arrives; the newest per sender wins, also in the sender's
//                          queue (SupersedesQueued): a slow link carries the newest one
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>

#include "proto/messages.h"

namespace grapevine::agent::algorithms {

enum class Channel : uint8_t {
  kModelGossip,
  kCrossGradientRequest,
  kCrossGradientReply,
  kPushShare,
  kCompressedGossip,
  kGroupUpdate,
  kGlobalSnapshot,
};
inline constexpr int kChannelCount = 7;

// What the mailbox keeps of a channel until the algorithm takes it: the newest message
// per sender (gossip-like traffic, where an older one is useless), or every message
// (push-sum shares: a dropped share loses mass; compressed updates: a dropped one
// desynchronises the public copies).
enum class ChannelKeeps { kNewestPerSender, kEvery };

constexpr ChannelKeeps KeepsOf(Channel c) {
  return c == Channel::kPushShare || c == Channel::kCompressedGossip ||
                 c == Channel::kGroupUpdate
             ? ChannelKeeps::kEvery
             : ChannelKeeps::kNewestPerSender;
}

// Whether a message of `c` is handed only to a live neighbour with an open link, so the
// sender knows exactly who got it (push-sum mass, public copies). Group updates go to
// any member, neighbour or not (the network dials it); their receivers check a content
// hash instead and ask for the group model when one went missing.
constexpr bool NeedsOpenLink(Channel c) {
  return c == Channel::kPushShare || c == Channel::kCompressedGossip;
}

// Whether a newer message of `c` to a peer replaces one still waiting in the queue to
// that peer (as gossip models do): daso's snapshots on a link slower than they are
// produced, so the receiver gets the newest rather than a growing backlog.
constexpr bool SupersedesQueued(Channel c) { return c == Channel::kGlobalSnapshot; }

const char* ChannelName(Channel c);

// A set of channels (bit i = Channel value i).
class ChannelSet {
 public:
  constexpr ChannelSet() = default;
  constexpr ChannelSet(std::initializer_list<Channel> channels) {
    for (Channel c : channels) bits_ |= Bit(c);
  }
  constexpr bool has(Channel c) const { return (bits_ & Bit(c)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr ChannelSet Without(Channel c) const {
    ChannelSet out = *this;
    out.bits_ &= ~Bit(c);
    return out;
  }

 private:
  static constexpr uint32_t Bit(Channel c) { return 1u << static_cast<uint32_t>(c); }
  uint32_t bits_ = 0;
};

// A validated message of a channel other than kModelGossip, as the algorithm takes it:
// `model` for model-bearing channels (requests, push shares), `gradient` for replies.
struct ChannelMessage {
  proto::NodeId from = proto::kNoNode;
  std::shared_ptr<const proto::ModelPayload> model;
  std::shared_ptr<const proto::CrossGradient> gradient;
};

// The channel a received model belongs to (by its purpose).
Channel ChannelOfModel(proto::ModelPurpose purpose);
// The purpose a model sent on `c` carries. REQUIRES: c is a model-bearing channel.
proto::ModelPurpose PurposeOf(Channel c);

}  // namespace grapevine::agent::algorithms
