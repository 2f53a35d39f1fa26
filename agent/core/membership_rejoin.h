// RejoinPolicy: what a joined agent does after it lost its id in a join race
// (EventKind::kIdConflict) — join again through the same member, a bounded number of
// times with a growing pause, then give up.
//
// Two joiners admitted at once through different members can be given the same id;
// the membership resolves it (the smaller address keeps the id) and the loser's
// Membership goes inert. The loser keeps its process, data and model, throws the
// Membership away and asks for a new id. This class only decides: when the next
// attempt is due, whether an attempt's reply is acceptable, and when to stop. The node
// performs the attempts (agent/node.cc); the in-process simulator needs none of this
// because it re-joins at once.
//
//   RejoinPolicy p;                     // default: 5 attempts, 250 ms pause doubling
//   on kIdConflict for id N:   if (p.OnLost(N, now) == kGiveUp) exit(1);
//   every tick:                if (p.Due(now)) { p.StartAttempt(now); send JoinRequest; }
//                              if (p.TimedOut(now) && p.OnAttemptFailed(now) == kGiveUp) ...
//   on a JoinReply naming id M: if (!p.Acceptable(M)) → OnAttemptFailed; else p.OnJoined();
//
// Attempts count over the whole life of the process: every lost id and every failed
// attempt uses one, so a swarm that keeps colliding cannot keep an agent re-joining
// forever. A member that has not heard of the conflict yet still maps our address to
// the lost id and hands it out again (Membership::HandleJoin treats it as a retry);
// Acceptable() refuses such a reply, and the pause lets the news reach that member.
//
// Pure and clock-free (callers pass `now`). Not thread-safe: the network thread only.
#pragma once

#include <algorithm>
#include <chrono>
#include <set>

#include "agent/core/clock.h"
#include "proto/messages.h"

namespace grapevine::agent::core {

struct RejoinConfig {
  int max_attempts = 5;
  // Pause before attempt k (1-based): first_pause * 2^(k-1), at most max_pause. The
  // first pause already lets the news of the conflict reach the member we ask.
  Duration first_pause = std::chrono::milliseconds(250);
  Duration max_pause = std::chrono::seconds(4);
  // An attempt without a reply by then has failed (a dead seed connection).
  Duration attempt_timeout = std::chrono::seconds(5);
};

class RejoinPolicy {
 public:
  enum class Decision { kRetry, kGiveUp };

  RejoinPolicy() = default;
  explicit RejoinPolicy(RejoinConfig config) : config_(config) {}

  // Our joined identity `lost` was taken by another joiner. Schedules the next attempt.
  Decision OnLost(proto::NodeId lost, TimePoint now) {
    if (lost != proto::kNoNode) lost_.insert(lost);
    last_lost_ = lost;
    return Schedule(now);
  }

  // The attempt in flight failed (refused, unreachable, timed out, or its reply named
  // a lost id). Schedules the next one unless the attempts are used up.
  Decision OnAttemptFailed(TimePoint now) {
    in_flight_ = false;
    return Schedule(now);
  }

  // True when an attempt should be started now.
  bool Due(TimePoint now) const { return waiting_ && !in_flight_ && now >= next_at_; }
  // Starts the attempt; returns its number (1-based).
  int StartAttempt(TimePoint now) {
    waiting_ = false;
    in_flight_ = true;
    started_at_ = now;
    return ++attempts_;
  }
  bool TimedOut(TimePoint now) const {
    return in_flight_ && now - started_at_ >= config_.attempt_timeout;
  }
  // A reply that hands out an id we already lost comes from a member that has not
  // heard of the conflict: using it would only lose the race again.
  bool Acceptable(proto::NodeId assigned) const { return lost_.count(assigned) == 0; }
  // The attempt in flight got us a new id.
  void OnJoined() {
    in_flight_ = false;
    waiting_ = false;
  }

  // Between a lost id and the next successful join.
  bool rejoining() const { return waiting_ || in_flight_; }
  bool in_flight() const { return in_flight_; }
  int attempts() const { return attempts_; }
  int max_attempts() const { return config_.max_attempts; }
  const std::set<proto::NodeId>& lost() const { return lost_; }
  proto::NodeId last_lost() const { return last_lost_; }
  // The pause before attempt `k` (1-based).
  Duration PauseBefore(int k) const {
    Duration pause = config_.first_pause;
    for (int i = 1; i < k && pause < config_.max_pause; ++i) pause *= 2;
    return std::min(pause, config_.max_pause);
  }

 private:
  Decision Schedule(TimePoint now) {
    if (attempts_ >= config_.max_attempts) {
      waiting_ = false;
      in_flight_ = false;
      return Decision::kGiveUp;
    }
    waiting_ = true;
    in_flight_ = false;
    next_at_ = now + PauseBefore(attempts_ + 1);
    return Decision::kRetry;
  }

  RejoinConfig config_;
  std::set<proto::NodeId> lost_;
  proto::NodeId last_lost_ = proto::kNoNode;
  int attempts_ = 0;
  bool waiting_ = false;    // an attempt is scheduled at next_at_
  bool in_flight_ = false;  // a JoinRequest is out, started at started_at_
  TimePoint next_at_{};
  TimePoint started_at_{};
};

// The alignment frame (dimat / wm) a re-joined agent publishes. A frame names the
// node whose unit order the parameters are in; it is not the agent's identity. A
// joiner's frame comes from its state transfer or from merges, so it is kept. Only a
// frame equal to the lost id would name the winner, who never had our unit order:
// it is renamed to our new id (REQUIRES: now_id is not a lost id).
inline proto::NodeId FrameAfterRejoin(proto::NodeId frame, proto::NodeId lost,
                                      proto::NodeId now_id) {
  return frame == lost ? now_id : frame;
}

}  // namespace grapevine::agent::core
