// Mailbox: what the network thread hands to the training thread — received gossip
// models, and the messages of the running algorithm's other channels
// (agent/algorithms/channel.h: cross-gradient requests and replies, push-sum shares).
//
// Bounded: it holds at most one gossip model per peer (a newer one replaces an older
// one that was not taken yet and is counted as superseded); a channel keeps the newest
// message per sender, or — for channels where every message counts — up to
// kMaxPerChannel messages, the oldest dropped (and counted) beyond that. The trainer
// waits on it with a deadline and never blocks the network thread: the Put*() calls
// only take a short lock.
//
// After the node lost its id in a join race (agent/core/membership_rejoin.h), Reset()
// drops everything addressed to the old identity and starts a new generation; the
// trainer sees the generation change in TakeAll() and forgets its own per-neighbour
// state. Everything taken together with a generation was put after that Reset().
// ForgetPeer() does the same for one neighbour whose id another agent took over.
//
// Thread-safety: all members are safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "agent/algorithms/channel.h"
#include "agent/core/clock.h"
#include "proto/messages.h"

namespace grapevine::agent {

class Mailbox {
 public:
  using ModelPtr = std::shared_ptr<const proto::ModelPayload>;
  using GradientPtr = std::shared_ptr<const proto::CrossGradient>;

  // Network thread: deposit a model (newest per origin wins).
  void Put(ModelPtr model) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++received_;
      auto& slot = models_[model->origin];
      if (slot) ++superseded_;
      slot = std::move(model);
    }
    cv_.notify_all();
  }

  using Channel = algorithms::Channel;
  static constexpr size_t kMaxPerChannel = 256;

  // Network thread: deposit a message of a channel other than kModelGossip.
  void PutOnChannel(Channel channel, algorithms::ChannelMessage msg) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& queue = channels_[static_cast<size_t>(channel)];
      bool replaced = false;
      if (algorithms::KeepsOf(channel) == algorithms::ChannelKeeps::kNewestPerSender) {
        for (auto& queued : queue) {
          if (queued.from == msg.from) {
            queued = std::move(msg);
            replaced = true;
            break;
          }
        }
      } else if (queue.size() >= kMaxPerChannel) {
        queue.pop_front();
        ++channel_dropped_;
      }
      if (!replaced) queue.push_back(std::move(msg));
    }
    cv_.notify_all();
  }

  // Trainer: wait on `clock` until `ready(models)` holds, a channel message is
  // pending, a Wake() or `deadline` passes.
  template <typename Pred>
  void WaitUntil(core::Clock& clock, core::TimePoint deadline, Pred ready) {
    std::unique_lock<std::mutex> lock(mu_);
    clock.WaitUntil(lock, cv_, deadline,
                    [&] { return woken_ || ChannelPending() || ready(models_); });
    woken_ = false;
  }

  // Trainer: take everything (the mailbox is empty afterwards). `generation`, when
  // given, receives the generation the models belong to.
  std::map<proto::NodeId, ModelPtr> TakeAll(uint64_t* generation = nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation != nullptr) *generation = generation_;
    return std::exchange(models_, {});
  }

  // Network thread: the node's identity changed (lost id, joined again). Drops every
  // model, request and cross-gradient not taken yet, starts a new generation and wakes
  // the trainer. Counters are kept.
  void Reset() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      models_.clear();
      for (auto& q : channels_) q.clear();
      ++generation_;
      woken_ = true;
    }
    cv_.notify_all();
  }

  // Network thread: `id` now names another agent (a join race was resolved in favour
  // of another address). Drops what that id sent and queues the id for the trainer,
  // which forgets its per-neighbour state (TakeForgotten) before taking new models.
  void ForgetPeer(proto::NodeId id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      models_.erase(id);
      for (auto& q : channels_) std::erase_if(q, [id](const auto& m) { return m.from == id; });
      forgotten_.insert(id);
      woken_ = true;
    }
    cv_.notify_all();
  }

  // Trainer: the ids ForgetPeer() named since the last call.
  std::set<proto::NodeId> TakeForgotten() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(forgotten_, {});
  }

  uint64_t generation() const {
    std::lock_guard<std::mutex> lock(mu_);
    return generation_;
  }

  // Trainer: every message of `channel`, oldest first (the channel is empty afterwards).
  std::vector<algorithms::ChannelMessage> TakeChannel(Channel channel) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& queue = channels_[static_cast<size_t>(channel)];
    std::vector<algorithms::ChannelMessage> out(std::make_move_iterator(queue.begin()),
                                                std::make_move_iterator(queue.end()));
    queue.clear();
    return out;
  }

  // Interrupts a waiting trainer (stop requested, membership changed).
  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = true;
    }
    cv_.notify_all();
  }

  uint64_t received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  uint64_t superseded() const {
    std::lock_guard<std::mutex> lock(mu_);
    return superseded_;
  }
  // Messages of keep-every channels dropped because the trainer did not take them.
  uint64_t channel_dropped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return channel_dropped_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<proto::NodeId, ModelPtr> models_;
  std::array<std::deque<algorithms::ChannelMessage>, algorithms::kChannelCount> channels_;
  std::set<proto::NodeId> forgotten_;
  bool woken_ = false;
  uint64_t generation_ = 0;
  uint64_t received_ = 0;
  uint64_t superseded_ = 0;
  uint64_t channel_dropped_ = 0;

  bool ChannelPending() const {
    for (const auto& q : channels_) {
      if (!q.empty()) return true;
    }
    return false;
  }
};

}  // namespace grapevine::agent
