#include "agent/membership_driver.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "proto/codec.h"

namespace grapevine::agent {

MembershipDriver::MembershipDriver(core::Transport& transport, core::Clock& clock,
                                   Listener& listener, Options options)
    : transport_(transport),
      clock_(clock),
      listener_(listener),
      options_(std::move(options)),
      rejoin_(options_.rejoin) {}

Status MembershipDriver::Bootstrap(proto::NodeId self, const std::string& self_addr,
                                   std::vector<proto::MemberRecord> members,
                                   std::vector<proto::Edge> edges) {
  self_addr_ = self_addr;
  membership_ = std::make_unique<core::Membership>(options_.config, self, self_addr,
                                                   options_.seed * 7919 + self);
  GV_RETURN_IF_ERROR(membership_->Bootstrap(std::move(members), std::move(edges)));
  transport_.SetIdentity(self, membership_->incarnation());
  return Status::Ok();
}

void MembershipDriver::StartJoin() {
  if (self_addr_.empty()) self_addr_ = transport_.listen_addr();
  const int attempt = rejoin_.attempts();  // 0: the first join
  if (attempt == 0) {
    spdlog::info("joining through {} (listening on {})", options_.join_addr, self_addr_);
  }
  transport_.DialAnonymous(
      options_.join_addr,
      [this](const core::LinkPtr& link) {
        proto::Envelope req;
        req.body = proto::JoinRequest{self_addr_, options_.fingerprint};
        transport_.Reply(link, req);
      },
      [this, attempt](const Status& why) {
        if (attempt == 0 && why.code() == StatusCode::kUnavailable) {
          // The seed is unreachable for now (restarting, partitioned away): try it again
          // every second; the Node gives up after its join timeout.
          spdlog::warn("cannot reach {} to join ({}); trying again in 1 s", options_.join_addr,
                       why.message());
          join_retry_at_ = clock_.Now() + std::chrono::seconds(1);
        } else if (attempt == 0) {
          listener_.OnFatal(why.WithContext("joining through " + options_.join_addr));
        } else if (rejoin_.in_flight() && rejoin_.attempts() == attempt) {
          RejoinAttemptFailed(why.ToString());
        }
      });
}

void MembershipDriver::OnTick() {
  TickRejoin();
  if (!Joined()) return;
  Execute(membership_->OnTick(clock_.Now()));
}

bool MembershipDriver::OnEnvelope(const core::LinkPtr& link, const proto::Envelope& env) {
  const proto::NodeId from = link ? link->peer_id() : proto::kNoNode;
  if (Joined() && from != proto::kNoNode) {
    Execute(membership_->OnMessage(from, env, clock_.Now()));
  }
  if (const auto* request = std::get_if<proto::JoinRequest>(&env.body)) {
    OnJoinRequest(link, *request);
    return true;
  }
  if (const auto* reply = std::get_if<proto::JoinReply>(&env.body)) {
    OnJoinReply(*reply);
    return true;
  }
  return false;
}

void MembershipDriver::OnJoinRequest(const core::LinkPtr& link, const proto::JoinRequest& body) {
  if (!Joined() || !link || link->is_client()) return;
  proto::Envelope reply;
  reply.sender = membership_->self();
  if (body.arch_fingerprint != options_.fingerprint) {
    reply.body = proto::JoinReply{false, "model architecture differs from the swarm's",
                                  proto::kNoNode, {}, {}, {}};
    transport_.Reply(link, reply);
    return;
  }
  auto [join_reply, actions] = membership_->HandleJoin(body, clock_.Now());
  spdlog::info("join from {}: {}", body.listen_addr,
               join_reply.accepted
                   ? "admitted as node " + std::to_string(join_reply.assigned_id)
                   : "refused: " + join_reply.reason);
  reply.body = std::move(join_reply);
  transport_.Reply(link, reply);
  Execute(std::move(actions));
}

void MembershipDriver::Leave() {
  if (membership_) Execute(membership_->Leave(clock_.Now()));
}

void MembershipDriver::SendTo(proto::NodeId id, std::shared_ptr<const proto::EncodedMessage> msg,
                              bool gossip_model) {
  if (!Joined()) return;
  for (const auto& m : membership_->Members()) {
    if (m.id == id) transport_.Send(id, m.addr, std::move(msg), gossip_model);
  }
}

std::map<proto::NodeId, std::string> MembershipDriver::Addresses() const {
  std::map<proto::NodeId, std::string> addr;
  if (!membership_) return addr;
  for (const auto& m : membership_->Members()) addr[m.id] = m.addr;
  return addr;
}

void MembershipDriver::Execute(core::Actions&& actions) {
  for (auto& out : actions.send) {
    proto::NodeId to = out.to;
    std::string addr = out.addr;
    auto env = membership_->Wrap(std::move(out));
    if (to == proto::kNoNode) {
      // Addressed by address alone (the loser of an id conflict): a one-off link.
      if (addr.empty()) continue;
      auto shared = std::make_shared<proto::Envelope>(std::move(env));
      transport_.DialAnonymous(
          addr, [this, shared](const core::LinkPtr& l) { transport_.Reply(l, *shared); },
          [addr](const Status& why) {
            spdlog::debug("could not reach {}: {}", addr, why.ToString());
          });
      continue;
    }
    transport_.Send(to, addr, std::make_shared<const proto::EncodedMessage>(proto::Encode(env)));
  }
  for (const auto& e : actions.events) {
    if (e.kind == core::EventKind::kIdConflict) {
      // Not here: the caller still uses membership_. Next on the network thread.
      transport_.Post([this] { DropIdentity(); });
    }
  }
  if (!actions.events.empty()) listener_.OnMembershipEvents(actions.events);
}

void MembershipDriver::DropIdentity() {
  if (!membership_ || !membership_->conflicted()) return;  // already dropped
  const proto::NodeId lost = membership_->self();
  membership_.reset();
  // Nobody may reach the lost identity any more: its links go, its peers are
  // forgotten, and until the new id we present no id (like a fresh joiner).
  transport_.SetIdentity(proto::kNoNode, 0);
  transport_.DropPeers();
  listener_.OnIdentityLost(lost);
  if (rejoin_.OnLost(lost, clock_.Now()) == core::RejoinPolicy::Decision::kGiveUp) {
    listener_.OnFatal(Status::Unavailable(fmt::format(
        "lost id {} to another joiner and already tried {} times to join again via {}; "
        "giving up",
        lost, rejoin_.attempts(), options_.join_addr)));
  }
}

void MembershipDriver::TickRejoin() {
  const core::TimePoint now = clock_.Now();
  if (join_retry_at_ && now >= *join_retry_at_ && !Joined()) {
    join_retry_at_.reset();
    StartJoin();
  }
  if (rejoin_.TimedOut(now)) RejoinAttemptFailed("no join reply in time");
  if (!rejoin_.Due(now)) return;
  const int attempt = rejoin_.StartAttempt(now);
  spdlog::info("lost id {} to another joiner; joining again via {} (attempt {}/{})",
               rejoin_.last_lost(), options_.join_addr, attempt, rejoin_.max_attempts());
  StartJoin();
}

void MembershipDriver::RejoinAttemptFailed(const std::string& why) {
  spdlog::warn("joining again via {} (attempt {}/{}) failed: {}", options_.join_addr,
               rejoin_.attempts(), rejoin_.max_attempts(), why);
  if (rejoin_.OnAttemptFailed(clock_.Now()) == core::RejoinPolicy::Decision::kGiveUp) {
    listener_.OnFatal(Status::Unavailable(fmt::format(
        "lost id {} to another joiner and could not join again via {} in {} attempts: {}",
        rejoin_.last_lost(), options_.join_addr, rejoin_.attempts(), why)));
  }
}

void MembershipDriver::OnJoinReply(const proto::JoinReply& reply) {
  if (membership_) return;  // duplicate
  const bool rejoin = rejoin_.rejoining();
  if (rejoin && !rejoin_.in_flight()) return;  // a late reply to a failed attempt
  if (!reply.accepted) {
    if (rejoin) {
      RejoinAttemptFailed("refused: " + reply.reason);
    } else {
      listener_.OnFatal(
          Status::Invalid("join refused by " + options_.join_addr + ": " + reply.reason));
    }
    return;
  }
  if (rejoin && !rejoin_.Acceptable(reply.assigned_id)) {
    // The member has not heard of the conflict yet and still maps our address to the
    // id we lost; taking it would only lose the race again.
    RejoinAttemptFailed(fmt::format("{} still assigns us the lost id {}", options_.join_addr,
                                    reply.assigned_id));
    return;
  }
  Status st = Admit(reply, rejoin);
  if (!st.ok()) listener_.OnFatal(st);
}

Status MembershipDriver::Admit(const proto::JoinReply& reply, bool rejoin) {
  membership_ = std::make_unique<core::Membership>(options_.config, reply.assigned_id, self_addr_,
                                                   options_.seed * 7919 + reply.assigned_id);
  GV_ASSIGN_OR_RETURN(core::Actions actions, membership_->ApplyJoinReply(reply, clock_.Now()));
  transport_.SetIdentity(reply.assigned_id, membership_->incarnation());
  if (rejoin) rejoin_.OnJoined();
  GV_RETURN_IF_ERROR(listener_.OnAdmitted(reply, rejoin));
  Execute(std::move(actions));
  if (!Joined()) return Status::Ok();  // lost again at once; DropIdentity is queued
  listener_.OnJoined(reply, rejoin);
  return Status::Ok();
}

}  // namespace grapevine::agent
