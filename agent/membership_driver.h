// MembershipDriver: one agent's membership on the network thread — the SWIM state
// machine (core::Membership) wired to a Transport: it wraps and sends the state
// machine's messages, feeds it what arrives, answers join requests, joins through a
// seed, and joins again under a new id after losing a join race (core::RejoinPolicy).
//
// The Node composes one (agent/node.cc) and adds what training needs through the
// Listener (views for the trainer, state transfer, the mailbox); the in-process swarm
// simulation (tests/sim) runs many of them on the in-memory transport with no Node at
// all. Either way the same code routes joins — nothing is re-implemented for tests.
//
// Thread-safety: network thread only (the transport's), like every Transport call.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/clock.h"
#include "agent/core/membership.h"
#include "agent/core/membership_config.h"
#include "agent/core/membership_rejoin.h"
#include "agent/core/transport.h"
#include "base/status.h"

namespace grapevine::agent {

class MembershipDriver {
 public:
  // What the owner adds. Called on the network thread, from inside the driver's calls.
  class Listener {
   public:
    virtual ~Listener() = default;
    // Events of the state machine, after they were applied (membership() is current).
    virtual void OnMembershipEvents(const std::vector<core::Event>& events) {}
    // A join reply admitted us (`rejoin`: again, after losing an id). Called before the
    // reply's actions are executed; an error stops the agent (OnFatal is not called).
    virtual Status OnAdmitted(const proto::JoinReply& reply, bool rejoin) { return Status::Ok(); }
    // The reply's actions were executed: we are a member under reply.assigned_id.
    virtual void OnJoined(const proto::JoinReply& reply, bool rejoin) {}
    // We lost our id in a join race; the driver dropped the identity and will join again.
    virtual void OnIdentityLost(proto::NodeId lost) {}
    // The agent cannot go on: the first join failed, or every re-join attempt did.
    virtual void OnFatal(const Status& why) = 0;
  };

  struct Options {
    core::MembershipConfig config;
    uint64_t seed = 1;            // per-agent: the membership's random choices
    std::string join_addr;        // joiners: the member to join through
    uint64_t fingerprint = 0;     // model architecture; joins with another one are refused
    core::RejoinConfig rejoin;
  };

  MembershipDriver(core::Transport& transport, core::Clock& clock, Listener& listener,
                   Options options);

  // Starts as member `self` of a known swarm (a topology file).
  Status Bootstrap(proto::NodeId self, const std::string& self_addr,
                   std::vector<proto::MemberRecord> members, std::vector<proto::Edge> edges);
  // Joiners: asks options.join_addr for an id. REQUIRES: transport listening.
  void StartJoin();
  void set_fingerprint(uint64_t f) { options_.fingerprint = f; }

  // Every tick of the transport: re-join timers, then the state machine's tick.
  void OnTick();
  // The membership part of what arrived: the sender header and membership messages
  // (identified senders), join requests and replies. Returns true when the envelope
  // was a join request or reply (nothing else to do with it).
  bool OnEnvelope(const core::LinkPtr& link, const proto::Envelope& env);
  // Announces that we leave (graceful shutdown).
  void Leave();
  // Sends msg to member id (nothing when not joined or not a member).
  void SendTo(proto::NodeId id, std::shared_ptr<const proto::EncodedMessage> msg,
              bool gossip_model);

  // Joined and not conflicted: membership() may be used for sending and views.
  bool Joined() const { return membership_ && !membership_->conflicted(); }
  // REQUIRES: the driver was bootstrapped or joined at least once (may be null after a
  // lost id until the re-join).
  const core::Membership* membership() const { return membership_.get(); }
  std::map<proto::NodeId, std::string> Addresses() const;
  const std::string& self_addr() const { return self_addr_; }
  bool rejoining() const { return rejoin_.rejoining(); }

 private:
  void Execute(core::Actions&& actions);
  void OnJoinRequest(const core::LinkPtr& link, const proto::JoinRequest& request);
  void OnJoinReply(const proto::JoinReply& reply);
  Status Admit(const proto::JoinReply& reply, bool rejoin);
  void DropIdentity();
  void TickRejoin();
  void RejoinAttemptFailed(const std::string& why);

  core::Transport& transport_;
  core::Clock& clock_;
  Listener& listener_;
  Options options_;
  std::string self_addr_;
  std::unique_ptr<core::Membership> membership_;
  core::RejoinPolicy rejoin_;
  // The first join's seed was unreachable: when to dial it again.
  std::optional<core::TimePoint> join_retry_at_;
};

}  // namespace grapevine::agent
